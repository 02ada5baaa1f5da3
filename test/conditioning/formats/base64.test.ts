import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../../conditioning/formats/base64.ts";

describe("base64", () => {
  it("matches Node's Buffer both ways for every length 0..70 and a 100 kB buffer", () => {
    const sizes = [...Array.from({ length: 71 }, (_, i) => i), 100_003];
    for (const size of sizes) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 97 + size) & 0xff);
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString("base64"));
      expect(decodeBase64(text)).toEqual(bytes);
    }
  });

  it("decodes URL-safe base64, missing padding and whitespace", () => {
    const bytes = Uint8Array.from([251, 255, 191, 0, 1]);
    const url = Buffer.from(bytes).toString("base64url");
    expect(url).toMatch(/[-_]/);
    expect(decodeBase64(url)).toEqual(bytes);
    expect(decodeBase64(" +/+/\nAAE= ")).toEqual(bytes);
  });

  it.each(["%%%", "abcde", "a=bc"])("refuses %j", (text) => {
    expect(() => decodeBase64(text)).toThrow(/base64/);
  });
});
