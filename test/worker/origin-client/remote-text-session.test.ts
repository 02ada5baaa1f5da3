import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTextEmbedder } from "../../../conditioning/conditioner/text-embedder.ts";
import { loadTokenizerFromDir } from "../../../node/prepare/bundle-tokenizer.ts";
import { parseOriginArgs } from "../../../origin/cli-options.ts";
import { type StartedOrigin, startOrigin } from "../../../origin/start-origin.ts";
import { createOriginClient } from "../../../worker/origin-client/origin-client.ts";
import { createRemoteTextSession } from "../../../worker/origin-client/remote-text-session.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { maxAbsDiff, readTensor, tinyOpenaiDir } from "../../origin/helpers.ts";

const SECRET = "remote-session-secret-0123";

describe("conditioning core on the origin's text graph (remote session.run)", () => {
  let cache: string;
  let started: StartedOrigin;

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), "clip-edge-remote-"));
    started = await startOrigin(
      parseOriginArgs(
        ["--model", tinyOpenaiDir(), "--port", "0", "--host", "127.0.0.1", "--cache-dir", cache],
        {
          ORIGIN_SECRET: SECRET,
        },
      ),
      () => {},
    );
  });
  afterAll(async () => {
    await started?.close();
    rmSync(cache, { recursive: true, force: true });
  });

  const client = () =>
    createOriginClient({
      baseUrl: started.url,
      secret: SECRET,
      fetch: (i, n) => fetch(i, n),
      timeoutMs: 10_000,
    });

  it("createTextEmbedder over the remote session gives the golden normalised text_embeds", async () => {
    const session = await createRemoteTextSession(client());
    expect(session.inputNames).toContain("input_ids");
    expect(session.outputNames).toContain("text_embeds");
    const tokenizer = await loadTokenizerFromDir(tinyOpenaiDir());
    const embedder = createTextEmbedder({
      session,
      tokenizer,
      tensorFactory: (type, data, dims) => ({ type, data, dims }),
      padId: 49407,
    });
    const prompts = (
      JSON.parse(readFileSync(fixturePath("models", "tiny-openai", "golden.json"), "utf8")) as {
        prompts: { text: string }[];
      }
    ).prompts.map((p) => p.text);
    const golden = readTensor(
      fixturePath("models", "tiny-openai", "golden.safetensors"),
      "text_embeds_normalized",
    );
    const { embeddings } = await embedder.embed(prompts);
    expect(embeddings.shape).toEqual(golden.shape);
    expect(maxAbsDiff(embeddings.data, golden.data)).toBeLessThanOrEqual(1e-4);
  });

  it("rejects out-of-vocabulary ids and unknown outputs with 4xx codes", async () => {
    const c = client();
    const ids = new BigInt64Array([49406n, 60000n]);
    const data = Buffer.from(ids.buffer).toString("base64");
    await expect(
      c.runTextGraph({ input_ids: { type: "int64", dims: [1, 2], data } }, ["text_embeds"]),
    ).rejects.toMatchObject({ code: "invalid_input" });
    const ok = Buffer.from(new BigInt64Array([49406n, 49407n]).buffer).toString("base64");
    await expect(
      c.runTextGraph({ input_ids: { type: "int64", dims: [1, 2], data: ok } }, ["nope"]),
    ).rejects.toMatchObject({ code: "invalid_input" });
    expect(c.breakerState()).toBe("closed");
  });
});
