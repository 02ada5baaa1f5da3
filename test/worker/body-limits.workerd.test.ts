/**
 * Body limits per route, in workerd: base64 fixture photos fit the image-carrying routes
 * at the default limits (against the real origin), JSON text routes stay small, and every
 * refusal is a 413 naming the limit that refused it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../worker/config/limits.ts";
import { createE2eApp, imageB64, jsonPost } from "./e2e/e2e-app.ts";
import { seedBundle } from "./helpers/seed.ts";

const app = createE2eApp();
let astronaut: string;

beforeAll(async () => {
  await seedBundle();
  astronaut = await imageB64("astronaut.png"); // the largest fixture photo: 792 KB
});

async function tooLarge(response: Response): Promise<string> {
  expect(response.status).toBe(413);
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  expect(error.code).toBe("too_large");
  return error.message;
}

describe("body limits", () => {
  it("a fixture photo as base64 is accepted by /v1/score and /v1/embeddings at the defaults", async () => {
    expect(astronaut.length).toBeGreaterThan(DEFAULT_LIMITS.maxBodyBytes * 10);
    const score = await app.request(
      "/v1/score",
      jsonPost({ images: [{ b64: astronaut }], prompts: ["an astronaut", "a cat"] }),
    );
    expect(score.status).toBe(200);
    const body = (await score.json()) as { scores: number[][] };
    expect(body.scores[0]).toHaveLength(2);
    const embeddings = await app.request(
      "/v1/embeddings",
      jsonPost({ input: ["an astronaut", { image: { b64: astronaut } }] }),
    );
    expect(embeddings.status).toBe(200);
  });

  it("JSON text routes still refuse a 100 KB body, naming MAX_BODY_BYTES", async () => {
    const prompt = "a ".repeat(50_000);
    for (const [path, body] of [
      ["/v1/tokenize", { prompt }],
      ["/v1/conditioning", { prompt }],
      ["/v1/embeddings", { input: [prompt] }],
    ] as const) {
      const message = await tooLarge(await app.request(path, jsonPost(body)));
      expect(message).toContain(`limit of ${DEFAULT_LIMITS.maxBodyBytes} bytes for ${path}`);
      expect(message).toContain("MAX_BODY_BYTES");
    }
  });

  it("an image body over the default MAX_IMAGE_BODY_BYTES is refused before the origin", async () => {
    const b64 = "A".repeat(DEFAULT_LIMITS.maxImageBodyBytes + 1024);
    for (const [path, body] of [
      ["/v1/score", { images: [{ b64 }], prompts: ["a cat"] }],
      ["/v1/embeddings", { input: [{ image: { b64 } }] }],
    ] as const) {
      const message = await tooLarge(await app.request(path, jsonPost(body)));
      expect(message).toContain(`limit of ${DEFAULT_LIMITS.maxImageBodyBytes} bytes`);
      expect(message).toContain("MAX_IMAGE_BODY_BYTES");
    }
  });

  it("a deployment's MAX_IMAGE_BODY_BYTES and per-image MAX_IMAGE_BYTES apply", async () => {
    const small = createE2eApp({ MAX_IMAGE_BODY_BYTES: String(256 * 1024) });
    const score = { images: [{ b64: astronaut }], prompts: ["an astronaut"] };
    expect(await tooLarge(await small.request("/v1/score", jsonPost(score)))).toContain(
      "limit of 262144 bytes for /v1/score (MAX_IMAGE_BODY_BYTES)",
    );
    const perImage = createE2eApp({ MAX_IMAGE_BYTES: String(500_000) });
    const message = await tooLarge(await perImage.request("/v1/score", jsonPost(score)));
    expect(message).toMatch(/images\[0\]\.b64 decodes to 791555 bytes, over the limit of 500000/);
    expect(message).toContain("MAX_IMAGE_BYTES");
  });
});
