import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  float16BitsToFloat32,
  float32ToFloat16Bits,
} from "../../../conditioning/formats/float16.ts";
import {
  parseSafetensors,
  serializeSafetensors,
  tensorToFloat32,
  tensorToInt32,
} from "../../../conditioning/formats/safetensors.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

describe("safetensors", () => {
  it("reads the fixture goldens with their shapes and dtypes", () => {
    const file = parseSafetensors(
      readFileSync(fixturePath("models/tiny-openai/golden.safetensors")),
    );
    const ids = file.tensors.get("input_ids_pad49407")!;
    expect(ids.dtype).toBe("I32");
    expect(ids.shape).toEqual([30, 77]);
    const first = tensorToInt32(ids);
    expect(first[0]).toBe(49406);
    const lhs = file.tensors.get("last_hidden_state_pad49407")!;
    expect(tensorToFloat32(lhs)).toHaveLength(30 * 77 * 64);
  });

  it("round-trips tensors with metadata", () => {
    const data = new Float32Array([1, -2.5, 3.25, 0]);
    const bytes = serializeSafetensors(
      {
        a: { dtype: "F32", shape: [2, 2], data },
        b: { dtype: "I32", shape: [1], data: new Int32Array([7]) },
      },
      { format: "pt" },
    );
    expect((new DataView(bytes.buffer).getUint32(0, true) + 8) % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ format: "pt" });
    expect(Array.from(tensorToFloat32(back.tensors.get("a")!))).toEqual([1, -2.5, 3.25, 0]);
    expect(Array.from(tensorToInt32(back.tensors.get("b")!))).toEqual([7]);
  });

  it("rejects a truncated file naming the tensor", () => {
    const bytes = serializeSafetensors({
      x: { dtype: "F32", shape: [4], data: new Float32Array(4) },
    });
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), "x.safetensors")).toThrow(
      /tensor x/,
    );
  });
});

describe("float16", () => {
  it("rounds to nearest even and handles specials", () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(70000)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float16BitsToFloat32(float32ToFloat16Bits(0.1))).toBeCloseTo(0.0999755859375, 12);
    expect(float16BitsToFloat32(float32ToFloat16Bits(2 ** -24))).toBe(2 ** -24);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(Number.NaN)))).toBe(true);
  });
});
