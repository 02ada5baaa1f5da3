import { describe, expect, it } from "vitest";
import type { EvalItem } from "../../../node/eval/eval-inputs.ts";
import { createOnlineScorer } from "../../../node/eval/eval-online-scorer.ts";

interface Sent {
  images: { b64: string }[];
  prompts: string[];
  model?: string;
}

const items: EvalItem[] = ["a", "b", "c", "d", "e"].map((name, i) => ({
  id: name,
  file: `/x/${name}.png`,
  prompt: i % 2 === 0 ? "even" : "odd",
}));
// Each file's bytes are its name: the fake server's cosine is a function of image and prompt.
const readFile = (file: string) => new TextEncoder().encode(file.slice(3, 4).repeat(30));
const cosineOf = (b64: string, prompt: string) =>
  (Buffer.from(b64, "base64")[0] - 96) / 10 + (prompt === "odd" ? 0.01 : 0);

function fakeWorker(options: { badImage?: string; fail503?: number } = {}) {
  const requests: Sent[] = [];
  let failures = options.fail503 ?? 0;
  const fakeFetch = (async (url: string, init: RequestInit) => {
    expect(url).toBe("http://w.test/v1/score");
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer k");
    const body = JSON.parse(init.body as string) as Sent;
    requests.push(body);
    if (failures > 0) {
      failures--;
      return new Response('{"error":{"code":"origin_unavailable"}}', {
        status: 503,
        headers: { "retry-after": "2" },
      });
    }
    const bad = body.images.some(
      (img) => Buffer.from(img.b64, "base64").toString()[0] === options.badImage,
    );
    if (bad)
      return new Response('{"error":{"code":"malformed","message":"bad image"}}', { status: 400 });
    return Response.json({
      images: body.images.map((img, index) => ({
        index,
        cosines: body.prompts.map((p) => cosineOf(img.b64, p)),
      })),
    });
  }) as unknown as typeof globalThis.fetch;
  return { fetch: fakeFetch, requests };
}

describe("online scorer (POST /v1/score)", () => {
  it("chunks by count and bytes, sends distinct prompts, reads each image at its own prompt", async () => {
    const worker = fakeWorker();
    const scorer = createOnlineScorer({
      url: "http://w.test/",
      apiKey: "k",
      model: "m1",
      chunkSize: 5,
      maxBodyBytes: 130, // 40 base64 chars an image: three fit
      fetch: worker.fetch,
      readFile,
    });
    const out = await scorer.score(items);
    expect(worker.requests.map((r) => r.images.length)).toEqual([3, 2]);
    expect(worker.requests[0].prompts).toEqual(["even", "odd"]);
    expect(worker.requests[0].model).toBe("m1");
    expect(out).toEqual([
      { id: "a", cosine: 0.1 },
      { id: "b", cosine: 0.2 + 0.01 },
      { id: "c", cosine: 0.3 },
      { id: "d", cosine: 0.4 + 0.01 },
      { id: "e", cosine: 0.5 },
    ]);
  });

  it("a refused image is isolated by splitting and recorded as its error; 503 is retried after Retry-After", async () => {
    const worker = fakeWorker({ badImage: "c", fail503: 1 });
    const waits: number[] = [];
    const scorer = createOnlineScorer({
      url: "http://w.test",
      apiKey: "k",
      fetch: worker.fetch,
      readFile,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const out = await scorer.score(items);
    expect(waits).toEqual([2000]);
    expect(out.map((o) => o.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(out[2]).toEqual({ id: "c", error: expect.stringContaining("HTTP 400") });
    expect(out.filter((o) => "cosine" in o)).toHaveLength(4);
  });

  it("a worker that stays down stops the run", async () => {
    const worker = fakeWorker({ fail503: 100 });
    const scorer = createOnlineScorer({
      url: "http://w.test",
      apiKey: "k",
      retries: 2,
      fetch: worker.fetch,
      readFile,
      sleep: async () => {},
    });
    await expect(scorer.score(items)).rejects.toThrow(/HTTP 503/);
    expect(worker.requests).toHaveLength(3);
  });
});
