import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../../conditioning/formats/base64.ts";
import { fromFloat16Array, toFloat16Array } from "../../../conditioning/formats/float16.ts";
import { tensorsToBase64, tensorsToJson } from "../../../conditioning/formats/json-tensors.ts";
import { serializeNpy } from "../../../conditioning/formats/npy.ts";
import { parseSafetensors, tensorToFloat32 } from "../../../conditioning/formats/safetensors.ts";
import { serializeTensors } from "../../../conditioning/formats/serialize-tensors.ts";
import { pythonWithNumpy } from "../../helpers/python.ts";

const dir = mkdtempSync(join(tmpdir(), "clip-edge-formats-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tensors() {
  const prompt = Float32Array.from(
    { length: 2 * 3 * 4 },
    (_, i) => Math.sin(i * 0.731) * 3.1 - 0.2,
  );
  const pooled = Float32Array.from({ length: 2 * 5 }, (_, i) => (i - 4.5) / 7);
  return {
    prompt_embeds: { shape: [2, 3, 4], data: prompt },
    pooled_prompt_embeds: { shape: [2, 5], data: pooled },
  };
}

/** Independent reader: numpy only (Debian python3-numpy), no safetensors package. */
const READER = `
import json, sys, struct, zipfile
import numpy as np
kind, path, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
expected = json.load(open(expected_path))
out = {}
if kind == "safetensors":
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in meta.values()), meta
    out["__metadata__"] = meta
    for name, info in header.items():
        dt = {"F32": "<f4", "F16": "<f2"}[info["dtype"]]
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + a: 8 + n + b], dtype=dt).reshape(info["shape"])
        out[name] = arr
elif kind == "npy":
    arr = np.load(path)
    out["prompt_embeds"] = arr
    out["__descr__"] = arr.dtype.str
elif kind == "npz":
    with np.load(path) as z:
        for name in z.files:
            out[name] = z[name]
result = {"ok": True, "names": sorted(k for k in out if not k.startswith("__"))}
for name, values in expected.items():
    arr = out[name]
    ref = np.array(values["data"], dtype=np.float64).reshape(values["shape"])
    assert list(arr.shape) == values["shape"], (name, arr.shape)
    result[name] = float(np.max(np.abs(arr.astype(np.float64) - ref)))
    result[name + ":dtype"] = arr.dtype.str
result["metadata"] = out.get("__metadata__")
result["descr"] = out.get("__descr__")
print(json.dumps(result))
`;
writeFileSync(join(dir, "reader.py"), READER);

function readWithNumpy(
  kind: string,
  bytes: Uint8Array,
  expected: Record<string, { shape: number[]; data: number[] }>,
) {
  const file = join(dir, `out-${kind}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, bytes);
  writeFileSync(`${file}.expected.json`, JSON.stringify(expected));
  const stdout = execFileSync(
    pythonWithNumpy(),
    [join(dir, "reader.py"), kind, file, `${file}.expected.json`],
    {
      encoding: "utf8",
    },
  );
  return JSON.parse(stdout);
}

const asExpected = (t: ReturnType<typeof tensors>, half = false) =>
  Object.fromEntries(
    Object.entries(t).map(([k, v]) => [
      k,
      {
        shape: v.shape,
        data: Array.from(half ? fromFloat16Array(toFloat16Array(v.data)) : v.data),
      },
    ]),
  );

describe("output formats read by an independent numpy reader", () => {
  it("safetensors F32 with string metadata: exact values", () => {
    const t = tensors();
    const out = serializeTensors(t, {
      format: "safetensors",
      metadata: { preset: "sd15", token_counts: "[3]" },
    });
    const r = readWithNumpy("safetensors", out.bytes, asExpected(t));
    expect(r.names).toEqual(["pooled_prompt_embeds", "prompt_embeds"]);
    expect(r.prompt_embeds).toBe(0);
    expect(r.pooled_prompt_embeds).toBe(0);
    expect(r["prompt_embeds:dtype"]).toBe("<f4");
    expect(r.metadata).toEqual({ format: "pt", preset: "sd15", token_counts: "[3]" });
    // And our own reader agrees.
    const parsed = parseSafetensors(out.bytes);
    expect(tensorToFloat32(parsed.tensors.get("prompt_embeds")!)).toEqual(t.prompt_embeds.data);
  });

  it("safetensors F16: values are the float16 rounding", () => {
    const t = tensors();
    const out = serializeTensors(t, { format: "safetensors", dtype: "float16" });
    const r = readWithNumpy("safetensors", out.bytes, asExpected(t, true));
    expect(r["prompt_embeds:dtype"]).toBe("<f2");
    expect(r.prompt_embeds).toBe(0);
  });

  it("npy v1.0 '<f4' and '<f2' load with np.load", () => {
    const t = tensors();
    const f32 = serializeTensors(t, { format: "npy" });
    expect(f32.extension).toBe(".npy");
    const r = readWithNumpy("npy", f32.bytes, { prompt_embeds: asExpected(t).prompt_embeds });
    expect(r.descr).toBe("<f4");
    expect(r.prompt_embeds).toBe(0);
    const f16 = serializeNpy(t.prompt_embeds, "float16");
    const r16 = readWithNumpy("npy", f16, { prompt_embeds: asExpected(t, true).prompt_embeds });
    expect(r16.descr).toBe("<f2");
    expect(r16.prompt_embeds).toBe(0);
    // Header: magic, version 1.0, data aligned to 64 bytes.
    expect(Array.from(f32.bytes.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
    expect((10 + (f32.bytes[8] | (f32.bytes[9] << 8))) % 64).toBe(0);
  });

  it("npz holds every tensor", () => {
    const t = tensors();
    const r = readWithNumpy("npz", serializeTensors(t, { format: "npz" }).bytes, asExpected(t));
    expect(r.names).toEqual(["pooled_prompt_embeds", "prompt_embeds"]);
    expect(r.pooled_prompt_embeds).toBe(0);
  });
});

describe("json, base64 and raw outputs", () => {
  it("json flat and nested layouts carry exact float32 values", () => {
    const t = tensors();
    const flat = tensorsToJson(t);
    expect(flat.prompt_embeds.shape).toEqual([2, 3, 4]);
    expect(Float32Array.from(flat.prompt_embeds.data as number[])).toEqual(t.prompt_embeds.data);
    const nested = tensorsToJson(t, { layout: "nested" });
    const n = nested.prompt_embeds.data as number[][][];
    expect(n).toHaveLength(2);
    expect(n[1][2][3]).toBe(t.prompt_embeds.data[23]);
    expect(n[0][1][0]).toBe(t.prompt_embeds.data[4]);
    const viaText = JSON.parse(
      new TextDecoder().decode(serializeTensors(t, { format: "json" }).bytes),
    );
    expect(viaText.tensors.pooled_prompt_embeds.data).toEqual(
      Array.from(t.pooled_prompt_embeds.data),
    );
  });

  it("base64 is the little-endian bytes and round-trips", () => {
    const t = tensors();
    const b = tensorsToBase64(t, "float32");
    const bytes = decodeBase64(b.prompt_embeds.data as string);
    expect(new Float32Array(bytes.slice().buffer)).toEqual(t.prompt_embeds.data);
    for (const n of [0, 1, 2, 3, 4, 5]) {
      const data = Uint8Array.from({ length: n }, (_, i) => i * 77 + 3);
      expect(decodeBase64(encodeBase64(data))).toEqual(data);
    }
    expect(encodeBase64(new TextEncoder().encode("foobar"))).toBe("Zm9vYmFy");
    expect(encodeBase64(new TextEncoder().encode("fooba"))).toBe("Zm9vYmE=");
  });

  it("raw gives LE data with an index of shapes and offsets", () => {
    const t = tensors();
    const raw = serializeTensors(t, { format: "raw", dtype: "float16" });
    const index = JSON.parse(raw.index!);
    expect(index.tensors.prompt_embeds).toEqual({
      dtype: "float16",
      shape: [2, 3, 4],
      offset: 0,
      byteLength: 48,
    });
    expect(index.tensors.pooled_prompt_embeds.offset).toBe(48);
    const half = new Uint16Array(raw.bytes.slice(48, 68).buffer);
    expect(fromFloat16Array(half)).toEqual(
      fromFloat16Array(toFloat16Array(t.pooled_prompt_embeds.data)),
    );
  });

  it("bad requests are clear errors", () => {
    const t = tensors();
    expect(() => serializeTensors(t, { format: "npy", tensor: "nope" })).toThrow(/nope/);
    expect(() => serializeTensors(t, { format: "xml" as never })).toThrow(/format must be one of/);
    expect(() => serializeNpy({ shape: [2, 2], data: new Float32Array(3) })).toThrow(/\[2,2\]/);
  });
});
