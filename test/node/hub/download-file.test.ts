import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { type DownloadEvent, downloadFile } from "../../../node/hub/download-file.ts";
import type { HubBody, HubClient, HubFileInfo } from "../../../node/hub/hub-client.ts";
import { sha256Hex } from "./fake-hub.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-dl-"));
  dirs.push(dir);
  return dir;
}

const CONTENT = new Uint8Array(4096).map((_, i) => (i * 7) % 251);
const ref = { repo: "a/b", revision: "main", path: "model.safetensors" };

/** A scripted HubClient: each openFile call takes the next answer. */
function scripted(answers: ((offset: number) => HubBody | Error)[]) {
  const offsets: number[] = [];
  const client: HubClient = {
    endpoint: "http://hub.test",
    fileUrl: () => "http://hub.test/a/b/resolve/main/model.safetensors",
    getFileInfo: async () => {
      throw new Error("not used");
    },
    openFile: async (_ref, options = {}) => {
      const offset = options.offset ?? 0;
      offsets.push(offset);
      const answer = answers.shift();
      if (!answer) throw new Error("no more scripted answers");
      const result = answer(offset);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { client, offsets };
}

function body(bytes: Uint8Array, status = 200, start = 0): HubBody {
  return {
    status,
    start,
    total: start + bytes.byteLength,
    chunks: (async function* () {
      yield bytes;
    })(),
    cancel: async () => {},
  };
}

const info = (over: Partial<HubFileInfo> = {}): HubFileInfo => ({
  ref,
  size: CONTENT.byteLength,
  sha256: sha256Hex(CONTENT),
  ...over,
});

describe("downloadFile", () => {
  it("starts over when the server answers 416 to the resume Range", async () => {
    const dir = tempDir();
    const destination = join(dir, "model.safetensors");
    writeFileSync(`${destination}.incomplete`, new Uint8Array(10));
    const rangeError = new ClipEdgeError("network", "416", { details: { status: 416 } });
    const { client, offsets } = scripted([() => rangeError, () => body(CONTENT)]);
    const result = await downloadFile({ client, info: info({ size: undefined }), destination });
    expect(offsets).toEqual([10, 0]);
    expect(result.sha256).toBe(sha256Hex(CONTENT));
    expect(readFileSync(destination)).toEqual(Buffer.from(CONTENT));
  });

  it("fails with integrity when fewer bytes arrive than the hub announced, leaving no files", async () => {
    const dir = tempDir();
    const { client } = scripted([() => body(CONTENT.subarray(0, 100))]);
    const error = (await downloadFile({ client, info: info(), destination: join(dir, "m") }).then(
      () => undefined,
      (e: unknown) => e,
    )) as ClipEdgeError;
    expect(error).toBeInstanceOf(ClipEdgeError);
    expect(error.code).toBe("integrity");
    expect(error.message).toContain("received 100 bytes but the hub announced 4096");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("does not retry a non-retryable error, and gives up after maxAttempts retryable ones", async () => {
    const dir = tempDir();
    const denied = new ClipEdgeError("unauthorized", "denied");
    const once = scripted([() => denied, () => body(CONTENT)]);
    await expect(
      downloadFile({ client: once.client, info: info(), destination: join(dir, "a") }),
    ).rejects.toBe(denied);
    expect(once.offsets).toEqual([0]);

    const flaky = new ClipEdgeError("network", "reset", { details: { retryable: true } });
    const events: DownloadEvent[] = [];
    const many = scripted([() => flaky, () => flaky, () => flaky, () => body(CONTENT)]);
    await expect(
      downloadFile({
        client: many.client,
        info: info(),
        destination: join(dir, "b"),
        maxAttempts: 3,
        retryDelayMs: 1,
        onEvent: (e) => events.push(e),
      }),
    ).rejects.toBe(flaky);
    expect(many.offsets).toEqual([0, 0, 0]);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(2);
  });

  it("keeps a complete copy whose git blob hash matches, and replaces one that does not", async () => {
    const dir = tempDir();
    const destination = join(dir, "vocab.json");
    const text = new TextEncoder().encode('{"a": 1}\n');
    writeFileSync(destination, text);
    const { createHash } = await import("node:crypto");
    const oid = createHash("sha1").update(`blob ${text.byteLength}\0`).update(text).digest("hex");
    const small = { ref: { ...ref, path: "vocab.json" }, size: text.byteLength, gitOid: oid };
    const none = scripted([]);
    expect((await downloadFile({ client: none.client, info: small, destination })).skipped).toBe(
      true,
    );

    writeFileSync(destination, '{"b": 2}\n');
    const fresh = scripted([() => body(text)]);
    const result = await downloadFile({ client: fresh.client, info: small, destination });
    expect(result.skipped).toBe(false);
    expect(readFileSync(destination, "utf8")).toBe('{"a": 1}\n');
  });
});
