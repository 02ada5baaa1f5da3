/** BundleStore.getFileInto: one load buffer for many files (BYOB reads from R2). */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createBundleStore, sha256Hex } from "../../worker/models/bundle-store.ts";

const data = new Uint8Array(150_000).map((_, i) => (i * 31) % 253); // several stream chunks
let sha256 = "";

beforeAll(async () => {
  sha256 = await sha256Hex(data);
  await env.MODELS.put("into/blob.bin", data);
});

describe("getFileInto", () => {
  const store = createBundleStore({ bucket: env.MODELS });
  const expected = () => ({ sha256, bytes: data.byteLength });

  it("fills a view at an offset of a larger buffer and hands the buffer back", async () => {
    const buffer = new ArrayBuffer(data.byteLength + 1000);
    const target = new Uint8Array(buffer, 700, data.byteLength);
    const got = await store.getFileInto("into", "blob.bin", expected(), target);
    expect(got.byteOffset).toBe(700);
    expect(got.buffer.byteLength).toBe(data.byteLength + 1000);
    expect(got).toEqual(data);
    // BYOB reads transfer the buffer: the caller's old views are detached.
    expect(buffer.byteLength).toBe(0);
  });

  it("copies when the object has no stream", async () => {
    const noBody = createBundleStore({
      bucket: {
        get: async (key) => {
          const object = await env.MODELS.get(key);
          return object && { size: object.size, arrayBuffer: () => object.arrayBuffer() };
        },
        list: (options) => env.MODELS.list(options),
      },
    });
    const target = new Uint8Array(data.byteLength);
    const got = await noBody.getFileInto("into", "blob.bin", expected(), target);
    expect(got).toEqual(data);
  });

  it("names the file on a wrong size, a wrong hash, a missing object and a short buffer", async () => {
    const target = () => new Uint8Array(data.byteLength + 10);
    await expect(
      store.getFileInto("into", "blob.bin", { sha256, bytes: 5 }, target()),
    ).rejects.toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/into\/blob.bin has 150000 bytes, the manifest says 5/),
    });
    await expect(
      store.getFileInto(
        "into",
        "blob.bin",
        { sha256: "0".repeat(64), bytes: data.byteLength },
        target(),
      ),
    ).rejects.toMatchObject({ code: "integrity", message: expect.stringMatching(/SHA-256/) });
    await expect(store.getFileInto("into", "nope.bin", expected(), target())).rejects.toMatchObject(
      { code: "unavailable", message: expect.stringMatching(/into\/nope.bin/) },
    );
    await expect(
      store.getFileInto("into", "blob.bin", expected(), new Uint8Array(10)),
    ).rejects.toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/read buffer 10/),
    });
  });
});
