import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { createHubClient, type HubProgress } from "../../../node/hub/hub-client.ts";
import { PULL_LOCK_FILE } from "../../../node/hub/pull-lock.ts";
import { PULL_RECORD_FILE, type PullEvent, pullModel } from "../../../node/hub/pull-model.ts";
import {
  closedEndpoint,
  type FakeHub,
  type FakeHubOptions,
  sha256Hex,
  startFakeHub,
} from "./fake-hub.ts";
import { inFolder, shardModel, splitTokenizer, tinyOpenaiFiles } from "./fixture-repos.ts";

const REPO = "openai/tiny-clip";
const TOKEN = "hf_test_token";
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-pull-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function hub(options: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  const server = await startFakeHub({
    repos: { [REPO]: { files: tinyOpenaiFiles() } },
    token: TOKEN,
    ...options,
  });
  cleanups.push(() => server.close());
  return server;
}

function pull(
  server: { endpoint: string },
  options: {
    repo?: string;
    revision?: string;
    subfolder?: string;
    token?: string;
    out?: string;
    idleTimeoutMs?: number;
  } = {},
) {
  const events: PullEvent[] = [];
  const progress: HubProgress[] = [];
  const client = createHubClient({
    endpoint: server.endpoint,
    token: options.token,
    fetch: (input, init) => fetch(input, init),
    onProgress: (p) => progress.push(p),
    idleTimeoutMs: options.idleTimeoutMs,
  });
  const outDir = options.out ?? tempDir();
  const run = pullModel({
    client,
    repo: options.repo ?? REPO,
    revision: options.revision,
    subfolder: options.subfolder,
    outDir,
    onEvent: (e) => events.push(e),
    retryDelayMs: 10,
  });
  return { run, outDir, events, progress };
}

function expectFolderEquals(dir: string, expected: Record<string, Uint8Array>) {
  const names = readdirSync(dir).filter((name) => name !== PULL_RECORD_FILE);
  expect(names.sort()).toEqual(Object.keys(expected).sort());
  for (const [name, bytes] of Object.entries(expected)) {
    const actual = readFileSync(join(dir, name));
    expect(sha256Hex(actual), name).toBe(sha256Hex(bytes));
  }
}

async function failure(promise: Promise<unknown>): Promise<ClipEdgeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClipEdgeError);
  return error as ClipEdgeError;
}

describe("pullModel against a local hub", () => {
  it("downloads tiny-openai byte-identically, verifies LFS SHA-256 and keeps the token off the CDN", async () => {
    const server = await hub();
    const { run, outDir, events, progress } = pull(server, { token: TOKEN });
    const result = await run;
    expectFolderEquals(outDir, tinyOpenaiFiles());
    const model = result.files.find((f) => f.name === "model.safetensors")!;
    expect(model.sha256).toBe(sha256Hex(tinyOpenaiFiles()["model.safetensors"]));
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    const heads = server.requests.filter((r) => r.server === "hub" && r.method === "HEAD");
    expect(heads[0].url).toBe(`/${REPO}/resolve/main/config.json`);
    expect(heads.slice(1).every((r) => r.url.includes(`/resolve/${result.commit}/`))).toBe(true);
    const record = JSON.parse(readFileSync(join(outDir, PULL_RECORD_FILE), "utf8"));
    expect(record.files.map((f: { name: string }) => f.name)).toContain("vocab.json");
    expect(events).toContainEqual({ type: "missing", path: "tokenizer.json" });
    expect(progress.at(-1)?.received).toBeGreaterThan(0);
    const cdn = server.requests.filter((r) => r.server === "cdn");
    expect(cdn.length).toBe(1);
    expect(cdn.every((r) => r.authorization === undefined)).toBe(true);
    const hubGets = server.requests.filter((r) => r.server === "hub");
    expect(hubGets.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it("skips complete, verified files on a second run (HEAD only, no body downloads)", async () => {
    const server = await hub();
    const first = pull(server);
    await first.run;
    const before = server.requests.length;
    const second = pull(server, { out: first.outDir });
    const result = await second.run;
    expect(result.files.every((f) => f.skipped)).toBe(true);
    const later = server.requests.slice(before);
    expect(later.filter((r) => r.method === "GET")).toEqual([]);
    expectFolderEquals(first.outDir, tinyOpenaiFiles());
  });

  it("re-downloads a local file whose content no longer matches the hub", async () => {
    const server = await hub();
    const first = pull(server);
    await first.run;
    writeFileSync(join(first.outDir, "vocab.json"), "{}");
    const second = pull(server, { out: first.outDir });
    const result = await second.run;
    expect(result.files.filter((f) => !f.skipped).map((f) => f.name)).toEqual(["vocab.json"]);
    expectFolderEquals(first.outDir, tinyOpenaiFiles());
  });

  it("follows a renamed repo's relative redirect and a same-origin (mirror) LFS redirect", async () => {
    const server = await hub({ cdnSameOrigin: true, renamed: { "old/tiny-clip": REPO } });
    const { run, outDir } = pull(server, { repo: "old/tiny-clip", token: TOKEN });
    const result = await run;
    expectFolderEquals(outDir, tinyOpenaiFiles());
    expect(result.files.find((f) => f.name === "model.safetensors")?.etag).toBe(
      sha256Hex(tinyOpenaiFiles()["model.safetensors"]),
    );
    const blobGet = server.requests.find((r) => r.server === "cdn" && r.method === "GET")!;
    expect(blobGet.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests.filter((r) => r.server === "cdn" && r.method === "HEAD")).toEqual([]);
  });

  it("downloads a sharded checkpoint: the index, then every shard it lists", async () => {
    const { "model.safetensors": model, ...rest } = tinyOpenaiFiles();
    const files = { ...rest, ...shardModel(model) };
    const server = await hub({ repos: { [REPO]: { files } } });
    const { run, outDir } = pull(server);
    await run;
    expectFolderEquals(outDir, files);
  });

  it("takes tokenizer files from tokenizer/ and tokenizer_2/ beside text_encoder/ and text_encoder_2/", async () => {
    const { model, tokenizer } = splitTokenizer(tinyOpenaiFiles());
    const { "model.safetensors": weights, ...modelRest } = model;
    const files = {
      ...inFolder("text_encoder", model),
      ...inFolder("tokenizer", tokenizer),
      ...inFolder("text_encoder_2", { ...modelRest, ...shardModel(weights) }),
      ...inFolder("tokenizer_2", tokenizer),
    };
    const server = await hub({ repos: { "sd/sdxl-tiny": { files } } });
    const one = pull(server, { repo: "sd/sdxl-tiny", subfolder: "text_encoder" });
    await one.run;
    expectFolderEquals(one.outDir, tinyOpenaiFiles());
    const two = pull(server, { repo: "sd/sdxl-tiny", subfolder: "text_encoder_2" });
    await two.run;
    expectFolderEquals(two.outDir, { ...modelRest, ...shardModel(weights), ...tokenizer });
    const paths = server.requests.map((r) => decodeURIComponent(r.url));
    expect(paths.some((p) => p.includes("/tokenizer_2/vocab.json"))).toBe(true);
  });

  it("resumes a download whose connection is cut mid-file, with a Range request", async () => {
    const server = await hub({ cutOnce: new Set(["model.safetensors"]) });
    const { run, outDir, events } = pull(server);
    await run;
    expectFolderEquals(outDir, tinyOpenaiFiles());
    const retry = events.find((e) => e.type === "retry");
    expect(retry).toMatchObject({ type: "retry", path: "model.safetensors" });
    const ranged = server.requests.filter((r) => r.server === "cdn" && r.range);
    expect(ranged).toHaveLength(1);
    expect(ranged[0].status).toBe(206);
    expect(ranged[0].range).toBe(`bytes=${(retry as { resumeFrom: number }).resumeFrom}-`);
  });

  it("aborts a download that goes silent and resumes it instead of hanging", async () => {
    const server = await hub({ stallOnce: new Set(["model.safetensors"]) });
    const { run, outDir, events } = pull(server, { idleTimeoutMs: 300 });
    await run;
    expectFolderEquals(outDir, tinyOpenaiFiles());
    const retry = events.find((e) => e.type === "retry") as { reason: string; resumeFrom: number };
    expect(retry.reason).toContain("no data for 0.3 s");
    expect(retry.resumeFrom).toBeGreaterThan(0);
  });

  it("continues an existing FILE.incomplete, and restarts when the server ignores the Range", async () => {
    const model = tinyOpenaiFiles()["model.safetensors"];
    for (const ignoreRange of [false, true]) {
      const server = await hub({ ignoreRange });
      const outDir = tempDir();
      writeFileSync(join(outDir, "model.safetensors.incomplete"), model.subarray(0, 1000));
      await pull(server, { out: outDir }).run;
      expectFolderEquals(outDir, tinyOpenaiFiles());
      const get = server.requests.find((r) => r.server === "cdn" && r.method === "GET")!;
      expect(get.range).toBe("bytes=1000-");
      expect(get.status).toBe(ignoreRange ? 200 : 206);
    }
  });

  it("deletes a corrupted download and reports the SHA-256 mismatch", async () => {
    const server = await hub({ corrupt: new Set(["model.safetensors"]) });
    const { run, outDir } = pull(server);
    const error = await failure(run);
    expect(error.code).toBe("integrity");
    expect(error.message).toContain("model.safetensors");
    expect(error.message).toContain(sha256Hex(tinyOpenaiFiles()["model.safetensors"]));
    expect(readdirSync(outDir).filter((n) => n.startsWith("model"))).toEqual([]);
  });

  it("asks for HF_TOKEN on a private repo, and succeeds with the right token", async () => {
    const server = await hub({ repos: { [REPO]: { files: tinyOpenaiFiles(), private: true } } });
    for (const token of [undefined, "hf_wrong"]) {
      const error = await failure(pull(server, { token }).run);
      expect(error.code).toBe("unauthorized");
      expect(error.message).toContain("HF_TOKEN");
      expect(error.message).toContain(REPO);
    }
    const ok = pull(server, { token: TOKEN });
    await ok.run;
    expectFolderEquals(ok.outDir, tinyOpenaiFiles());
  });

  it("names a gated repo and its terms", async () => {
    const server = await hub({ repos: { [REPO]: { files: tinyOpenaiFiles(), gated: true } } });
    const error = await failure(pull(server).run);
    expect(error.code).toBe("unauthorized");
    expect(error.message).toMatch(/gated.*HF_TOKEN/);
  });

  it("reports a missing repo, revision or weights file by name", async () => {
    const server = await hub({
      repos: {
        [REPO]: { files: tinyOpenaiFiles() },
        "x/no-weights": { files: { "config.json": new Uint8Array(2) } },
      },
    });
    const repo = await failure(pull(server, { repo: "nobody/nothing", token: TOKEN }).run);
    expect(repo.code).toBe("not_found");
    expect(repo.message).toContain("nobody/nothing");
    const revision = await failure(pull(server, { revision: "v9" }).run);
    expect(revision.code).toBe("not_found");
    expect(revision.message).toContain("'v9'");
    const weights = await failure(pull(server, { repo: "x/no-weights" }).run);
    expect(weights.code).toBe("not_found");
    expect(weights.message).toContain("model.safetensors");
    const sub = await failure(pull(server, { subfolder: "text_encoder" }).run);
    expect(sub.message).toContain("'text_encoder/config.json'");
  });

  it("refuses a pickle-only (.bin) checkpoint with a convert-to-safetensors error", async () => {
    const { "model.safetensors": _, ...rest } = tinyOpenaiFiles();
    const files = { ...rest, "pytorch_model.bin": new Uint8Array([0x80, 2, 0x7d]) };
    const server = await hub({ repos: { [REPO]: { files } } });
    const error = await failure(pull(server).run);
    expect(error.code).toBe("unsupported");
    expect(error.message).toContain("pytorch_model.bin");
    expect(error.message).toContain("convert it to safetensors");
  });

  it("retries a hub that answers 503 a few times, and reports one that keeps failing", async () => {
    const flaky = await hub({ failFirst: 2 });
    const ok = pull(flaky);
    await ok.run;
    expectFolderEquals(ok.outDir, tinyOpenaiFiles());
    expect(flaky.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 200]);
    const down = await hub({ failFirst: 1000 });
    const error = await failure(pull(down).run);
    expect(error.code).toBe("network");
    expect(error.message).toContain("HTTP 503");
    expect(error.message).toContain("'config.json'");
  });

  it("refuses to pull into a folder another live pull holds, and takes over a stale lock", async () => {
    const server = await hub();
    const busy = tempDir();
    writeFileSync(join(busy, PULL_LOCK_FILE), String(process.pid));
    const error = await failure(pull(server, { out: busy }).run);
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(readdirSync(busy)).toEqual([PULL_LOCK_FILE]);

    const stale = tempDir();
    writeFileSync(join(stale, PULL_LOCK_FILE), "2147483646");
    await pull(server, { out: stale }).run;
    expectFolderEquals(stale, tinyOpenaiFiles());
  });

  it("names the endpoint and HF_ENDPOINT (not --model, which pull has not) when the hub cannot be reached", async () => {
    const endpoint = await closedEndpoint();
    const error = await failure(pull({ endpoint }).run);
    expect(error.code).toBe("network");
    expect(error.message).toContain(endpoint);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).toContain("HF_ENDPOINT");
    expect(error.message).not.toContain("--model");
  });
});
