import { beforeAll, describe, expect, it } from "vitest";
import { post, sessionStats } from "./helpers/client.ts";
import { seedBundle } from "./helpers/seed.ts";

beforeAll(async () => {
  await seedBundle();
});

describe("response cache", () => {
  it("serves a second identical request from the cache without running the graph", async () => {
    const request = {
      preset: "sd15",
      prompt: "a lighthouse at dusk, oil painting",
      format: "safetensors",
    };
    const first = await post("/v1/conditioning", request);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const firstBytes = new Uint8Array(await first.arrayBuffer());

    // Same request, keys in another order: same canonical request. The first answer's
    // cache.put runs in waitUntil, after the answer: ask until it has landed (a miss in
    // between runs the graph again, so the run counts are taken from the hit on).
    const reordered = { format: "safetensors", prompt: request.prompt, preset: "sd15" };
    let second = await post("/v1/conditioning", reordered);
    for (let i = 0; i < 20 && second.headers.get("x-cache") !== "HIT"; i++) {
      await new Promise((r) => setTimeout(r, 25));
      second = await post("/v1/conditioning", reordered);
    }
    expect(second.status).toBe(200);
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(second.headers.get("etag")).toBe(etag);
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(firstBytes);
    // Once cached, an identical request runs nothing.
    const before = await sessionStats();
    const third = await post("/v1/conditioning", request);
    expect(third.headers.get("x-cache")).toBe("HIT");
    await third.arrayBuffer();
    const after = await sessionStats();
    expect(after.runs).toBe(before.runs);
    expect(after.requests).toBe(before.requests);

    const notModified = await post("/v1/conditioning", request, { "if-none-match": etag! });
    expect(notModified.status).toBe(304);

    const different = await post("/v1/conditioning", { ...request, dtype: "float16" });
    expect(different.headers.get("x-cache")).toBe("MISS");
    expect(different.headers.get("etag")).not.toBe(etag);
  });
});

describe("micro-batching", () => {
  it("serves 32 concurrent /v1/embeddings requests with few session.run calls", async () => {
    await post("/v1/embeddings", { input: "warm up" });
    const before = await sessionStats();
    const prompts = Array.from(
      { length: 32 },
      (_, i) => `concurrent prompt number ${i} ${"word ".repeat(i % 7)}`,
    );
    const responses = await Promise.all(prompts.map((input) => post("/v1/embeddings", { input })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
      data: { embedding: number[] }[];
    }[];
    responses.forEach((r) => {
      expect(r.status).toBe(200);
    });
    // Each answer is its own prompt's vector: compare with a sequential run.
    const single = (await (
      await post("/v1/embeddings", { input: [prompts[5], "another"] })
    ).json()) as (typeof bodies)[0];
    const batched = bodies[5].data[0].embedding;
    const diff = Math.max(...batched.map((v, i) => Math.abs(v - single.data[0].embedding[i])));
    expect(diff).toBeLessThan(1e-5);
    const after = await sessionStats();
    const runs = after.runs - before.runs - 1; // minus the sequential check
    console.log(
      `32 concurrent /v1/embeddings -> ${runs} session.run call(s), largest batch ${after.largest_batch}`,
    );
    expect(after.requests - before.requests).toBe(33);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(8);
    expect(after.largest_batch).toBeGreaterThan(1);
  });
});
