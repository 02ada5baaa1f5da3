import { describe, expect, it } from "vitest";
import { type R2Like, seedFiles } from "../../../node/local-dev/seed-local-r2.ts";

/** An in-memory stand-in for the MODELS binding (get / put with custom metadata). */
function memoryBucket() {
  const objects = new Map<string, { bytes: Uint8Array; meta?: Record<string, string> }>();
  const bucket: R2Like = {
    async get(key) {
      const o = objects.get(key);
      return o ? { arrayBuffer: async () => o.bytes.slice().buffer } : null;
    },
    async put(key, value, options) {
      objects.set(key, { bytes: value.slice(), meta: options?.customMetadata });
    },
  };
  return { bucket, objects };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const file = (key: string, text: string) => ({ key, read: () => bytes(text) });

describe("seedFiles (npm start --seed-only)", () => {
  it("uploads new files, skips intact ones, and repairs a corrupt object whose metadata still matches", async () => {
    const { bucket, objects } = memoryBucket();
    const files = [file("m/text.onnx", "graph bytes"), file("m/manifest.json", "{}")];
    const log: string[] = [];
    expect(await seedFiles(bucket, files, (l) => log.push(l))).toEqual({ uploaded: 2, skipped: 0 });
    expect(await seedFiles(bucket, files, (l) => log.push(l))).toEqual({ uploaded: 0, skipped: 2 });

    // Corrupt the stored bytes, keep the sha256 metadata (what the issue found).
    const stored = objects.get("m/text.onnx")!;
    objects.set("m/text.onnx", { bytes: bytes("graph byteZ"), meta: stored.meta });
    log.length = 0;
    expect(await seedFiles(bucket, files, (l) => log.push(l))).toEqual({ uploaded: 1, skipped: 1 });
    expect(new TextDecoder().decode(objects.get("m/text.onnx")!.bytes)).toBe("graph bytes");
    expect(log).toEqual([expect.stringMatching(/m\/text\.onnx .*stored bytes differed/)]);
  });
});
