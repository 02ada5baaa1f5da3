import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { modelSourceOptionsFromEnv } from "../../../node/hub/model-source-env.ts";
import {
  createHubPuller,
  type HubPullRequest,
  hubCacheDir,
  parseHubSpec,
  resolveModelSource,
} from "../../../node/hub/resolve-model.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { closedEndpoint, startFakeHub } from "./fake-hub.ts";
import { tinyOpenaiFiles } from "./fixture-repos.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-resolve-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<ClipEdgeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClipEdgeError);
  return error as ClipEdgeError;
}

describe("resolveModelSource", () => {
  it("recognises a prepared bundle folder by its manifest.json", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "manifest.json"), "{}");
    await expect(resolveModelSource(dir, { cacheDir: tempDir() })).resolves.toEqual({
      kind: "bundle",
      format: "bundle",
      dir,
    });
  });

  it("recognises a Hugging Face checkpoint folder (the tiny-openai fixture) without any network", async () => {
    const dir = fixturePath("models", "tiny-openai");
    const pulls: HubPullRequest[] = [];
    const source = await resolveModelSource(dir, {
      cacheDir: tempDir(),
      offline: true,
      pull: async (r) => {
        pulls.push(r);
      },
    });
    expect(source).toEqual({ kind: "hf", format: "hf", dir });
    expect(pulls).toEqual([]);
  });

  it("rejects local folders that are neither, a pickle-only folder, and a plain file", async () => {
    const empty = tempDir();
    expect((await rejection(resolveModelSource(empty, { cacheDir: empty }))).message).toContain(
      "neither a prepared bundle",
    );
    const pickle = tempDir();
    writeFileSync(join(pickle, "config.json"), "{}");
    writeFileSync(join(pickle, "pytorch_model.bin"), "x");
    expect((await rejection(resolveModelSource(pickle, { cacheDir: pickle }))).code).toBe(
      "unsupported",
    );
    const file = join(pickle, "config.json");
    expect((await rejection(resolveModelSource(file, { cacheDir: pickle }))).message).toContain(
      "is a file",
    );
    const nothing = await rejection(resolveModelSource("./no/such/dir", { cacheDir: pickle }));
    expect(nothing.code).toBe("not_found");
    expect(nothing.message).toContain("./no/such/dir");
  });

  it("parses hub ids with optional subfolder and revision", () => {
    expect(parseHubSpec("openai/clip-vit-large-patch14")).toEqual({
      repo: "openai/clip-vit-large-patch14",
      revision: "main",
      subfolder: "",
    });
    expect(parseHubSpec("stabilityai/sdxl/text_encoder_2@refs/pr/4")).toEqual({
      repo: "stabilityai/sdxl",
      revision: "refs/pr/4",
      subfolder: "text_encoder_2",
    });
    expect(parseHubSpec("/abs/path")).toBeUndefined();
    expect(parseHubSpec("a/../b")).toBeUndefined();
    expect(
      hubCacheDir("/c", { repo: "a/b", revision: "refs/pr/4", subfolder: "text_encoder" }),
    ).toBe("/c/hub/a--b/refs%2Fpr%2F4/text_encoder");
  });

  it("pulls a hub id into the cache once, then serves it from the cache (also offline)", async () => {
    const hub = await startFakeHub({ repos: { "openai/tiny-clip": { files: tinyOpenaiFiles() } } });
    cleanups.push(() => hub.close());
    const cacheDir = tempDir();
    const pull = createHubPuller({ endpoint: hub.endpoint, fetch: (i, init) => fetch(i, init) });
    const first = await resolveModelSource("openai/tiny-clip", { cacheDir, pull });
    expect(first).toMatchObject({ kind: "hub", format: "hf", pulled: true, revision: "main" });
    expect(first.dir).toBe(join(cacheDir, "hub", "openai--tiny-clip", "main"));
    const requests = hub.requests.length;
    const again = await resolveModelSource("openai/tiny-clip", { cacheDir, pull });
    expect(again).toMatchObject({ kind: "hub", pulled: false, dir: first.dir });
    const offline = await resolveModelSource("openai/tiny-clip", { cacheDir, offline: true });
    expect(offline).toMatchObject({ pulled: false, dir: first.dir });
    expect(hub.requests.length).toBe(requests);
  });

  it("re-pulls an interrupted cache entry (no pull record yet)", async () => {
    const cacheDir = tempDir();
    const spec = { repo: "openai/tiny-clip", revision: "main", subfolder: "" };
    mkdirSync(hubCacheDir(cacheDir, spec), { recursive: true });
    writeFileSync(join(hubCacheDir(cacheDir, spec), "config.json"), "{}");
    const pulls: HubPullRequest[] = [];
    const source = await resolveModelSource("openai/tiny-clip", {
      cacheDir,
      pull: async (r) => {
        pulls.push(r);
      },
    });
    expect(source).toMatchObject({ pulled: true });
    expect(pulls).toEqual([{ ...spec, outDir: hubCacheDir(cacheDir, spec) }]);
  });

  it("names --model when offline and the hub id is not cached, or the hub is unreachable", async () => {
    const offline = await rejection(
      resolveModelSource("openai/tiny-clip", { cacheDir: tempDir(), offline: true }),
    );
    expect(offline.code).toBe("unavailable");
    expect(offline.message).toContain("offline mode is on");
    expect(offline.message).toContain("--model");
    const endpoint = await closedEndpoint();
    const pull = createHubPuller({ endpoint, fetch: (i, init) => fetch(i, init) });
    const down = await rejection(
      resolveModelSource("openai/tiny-clip", { cacheDir: tempDir(), pull }),
    );
    expect(down.code).toBe("network");
    expect(down.message).toContain(endpoint);
    expect(down.message).toContain("--model");
  });
});

describe("modelSourceOptionsFromEnv", () => {
  const deps = { fetch: (i: string, init?: RequestInit) => fetch(i, init), homeDir: "/home/u" };

  it("picks the cache folder from CLIP_EDGE_CACHE, XDG_CACHE_HOME or the home folder", () => {
    expect(modelSourceOptionsFromEnv({ CLIP_EDGE_CACHE: "/c" }, deps).cacheDir).toBe("/c");
    expect(modelSourceOptionsFromEnv({ XDG_CACHE_HOME: "/x" }, deps).cacheDir).toBe("/x/clip-edge");
    expect(modelSourceOptionsFromEnv({}, deps).cacheDir).toBe("/home/u/.cache/clip-edge");
  });

  it("goes offline (no puller) on HF_HUB_OFFLINE=1 or CLIP_EDGE_OFFLINE=true", () => {
    expect(modelSourceOptionsFromEnv({}, deps)).toMatchObject({ offline: false });
    expect(typeof modelSourceOptionsFromEnv({}, deps).pull).toBe("function");
    for (const env of [{ HF_HUB_OFFLINE: "1" }, { CLIP_EDGE_OFFLINE: "true" }]) {
      const options = modelSourceOptionsFromEnv(env, deps);
      expect(options.offline).toBe(true);
      expect(options.pull).toBeUndefined();
    }
    expect(modelSourceOptionsFromEnv({ HF_HUB_OFFLINE: "0" }, deps).offline).toBe(false);
  });

  it("pulls from HF_ENDPOINT with HF_TOKEN", async () => {
    const hub = await startFakeHub({
      repos: { "openai/tiny-clip": { files: tinyOpenaiFiles(), private: true } },
      token: "hf_env",
    });
    cleanups.push(() => hub.close());
    const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: "hf_env", CLIP_EDGE_CACHE: tempDir() };
    const options = modelSourceOptionsFromEnv(env, deps);
    const source = await resolveModelSource("openai/tiny-clip", options);
    expect(source).toMatchObject({ kind: "hub", pulled: true });
    expect(
      hub.requests
        .filter((r) => r.server === "hub")
        .every((r) => r.authorization === "Bearer hf_env"),
    ).toBe(true);
  });
});
