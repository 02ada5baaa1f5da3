import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hfHubCacheDir, hfSnapshotDir } from "../../../node/hub/hf-cache.ts";
import { hubCacheDir, resolveModelSource } from "../../../node/hub/resolve-model.ts";
import { tinyOpenaiFiles } from "./fixture-repos.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-hfcache-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** Writes files the way huggingface_hub does: blobs by hash, snapshot symlinks, refs/<rev>. */
function writeHfCache(hubCache: string, repo: string, files: Record<string, Uint8Array>) {
  const repoDir = join(hubCache, `models--${repo.replace("/", "--")}`);
  mkdirSync(join(repoDir, "blobs"), { recursive: true });
  mkdirSync(join(repoDir, "refs"), { recursive: true });
  writeFileSync(join(repoDir, "refs", "main"), COMMIT);
  for (const [path, bytes] of Object.entries(files)) {
    const hash = sha256(bytes);
    const blob = join(repoDir, "blobs", hash);
    writeFileSync(blob, bytes);
    const link = join(repoDir, "snapshots", COMMIT, path);
    mkdirSync(join(link, ".."), { recursive: true });
    symlinkSync(blob, link);
  }
  return repoDir;
}

describe("the standard Hugging Face cache", () => {
  it("is found from HF_HUB_CACHE, HF_HOME or the home folder, as huggingface_hub finds it", () => {
    expect(hfHubCacheDir({ HF_HUB_CACHE: "/hc" }, "/home/u")).toBe("/hc");
    expect(hfHubCacheDir({ HF_HOME: "/hh" }, "/home/u")).toBe("/hh/hub");
    expect(hfHubCacheDir({ XDG_CACHE_HOME: "/x" }, "/home/u")).toBe("/x/huggingface/hub");
    expect(hfHubCacheDir({}, "/home/u")).toBe("/home/u/.cache/huggingface/hub");
  });

  it("serves a snapshot a Python user downloaded, offline, linked (not copied) with its hashes", async () => {
    const hubCache = tempDir();
    const files = tinyOpenaiFiles();
    writeHfCache(hubCache, "openai/tiny-clip", files);
    const cacheDir = tempDir();
    const source = await resolveModelSource("openai/tiny-clip", {
      cacheDir,
      offline: true,
      hfCache: hubCache,
    });
    expect(source).toMatchObject({ kind: "hub", format: "hf", pulled: false });
    expect(source.dir).toBe(
      hubCacheDir(cacheDir, { repo: "openai/tiny-clip", revision: "main", subfolder: "" }),
    );
    expect(lstatSync(join(source.dir, "model.safetensors")).isSymbolicLink()).toBe(true);
    const record = JSON.parse(readFileSync(join(source.dir, "clip-edge-pull.json"), "utf8"));
    expect(record.commit).toBe(COMMIT);
    for (const name of ["config.json", "model.safetensors", "vocab.json", "merges.txt"]) {
      const entry = record.files.find((f: { name: string }) => f.name === name);
      expect(entry.sha256).toBe(sha256(files[name]));
      expect(sha256(readFileSync(join(source.dir, name)))).toBe(entry.sha256);
    }
    // Once the HF cache is gone the links dangle: refused, never served half.
    rmSync(hubCache, { recursive: true, force: true });
    await expect(
      resolveModelSource("openai/tiny-clip", { cacheDir, offline: true }),
    ).rejects.toMatchObject({
      code: "unavailable",
    });
  });

  it("takes a diffusers text encoder's tokenizer from the sibling tokenizer_2/ folder", async () => {
    const hubCache = tempDir();
    const tiny = tinyOpenaiFiles();
    writeHfCache(hubCache, "org/sd-like", {
      "text_encoder_2/config.json": tiny["config.json"],
      "text_encoder_2/model.safetensors": tiny["model.safetensors"],
      "tokenizer_2/vocab.json": tiny["vocab.json"],
      "tokenizer_2/merges.txt": tiny["merges.txt"],
    });
    const source = await resolveModelSource("org/sd-like/text_encoder_2", {
      cacheDir: tempDir(),
      offline: true,
      hfCache: hubCache,
    });
    expect(sha256(readFileSync(join(source.dir, "merges.txt")))).toBe(sha256(tiny["merges.txt"]));
  });

  it("is passed over when a revision, the weights or the tokenizer are missing", async () => {
    const hubCache = tempDir();
    const tiny = tinyOpenaiFiles();
    writeHfCache(hubCache, "org/no-tokenizer", {
      "config.json": tiny["config.json"],
      "model.safetensors": tiny["model.safetensors"],
    });
    expect(
      hfSnapshotDir(hubCache, { repo: "org/no-tokenizer", revision: "v2", subfolder: "" }),
    ).toBeUndefined();
    const options = { cacheDir: tempDir(), offline: true, hfCache: hubCache };
    for (const spec of ["org/no-tokenizer", "org/absent", "org/no-tokenizer@v2"]) {
      await expect(resolveModelSource(spec, options)).rejects.toMatchObject({
        code: "unavailable",
      });
    }
  });
});
