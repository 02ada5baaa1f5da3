import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../cli/main.ts";
import { parseSafetensors } from "../../../conditioning/formats/safetensors.ts";
import { prepareFixtureBundles } from "../../conditioning/conditioner/bundles.ts";
import { createCliIo } from "../../helpers/cli-io.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import { pythonWithNumpy } from "../../helpers/python.ts";

const io = () => createCliIo();

/**
 * Independent reader (numpy only; python3 with numpy, see test/helpers/python.ts): parses our output file and the
 * fixture golden.safetensors by hand and prints max |ours - golden| for the given rows.
 */
const COMPARE = `
import json, struct, sys
import numpy as np
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        dt = {"F32": "<f4", "F16": "<f2", "I32": "<i4"}[info["dtype"]]
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=dt).reshape(info["shape"])
    return out, meta
spec = json.loads(sys.argv[1])
if spec["kind"] == "npy":
    ours, meta = {spec["name"]: np.load(spec["ours"])}, {}
else:
    ours, meta = load(spec["ours"])
result = {"metadata": meta, "shapes": {k: list(v.shape) for k, v in ours.items()},
          "dtypes": {k: v.dtype.str for k, v in ours.items()}, "diffs": {}}
for c in spec["compare"]:
    golden, _ = load(c["golden"])
    ref = golden[c["golden_name"]][c["rows"]].astype(np.float64)
    mine = ours[c["name"]].astype(np.float64)
    if "feature_slice" in c:
        a, b = c["feature_slice"]
        mine = mine[..., a:b]
    result["diffs"][c["label"]] = float(np.max(np.abs(mine - ref)))
print(json.dumps(result))
`;

let dirs: Record<string, string>;
let cleanup: () => void;
let tmp: string;
const golden = (model: string) => fixturePath("models", model, "golden.safetensors");
const texts = (
  JSON.parse(readFileSync(fixturePath("models/tiny-openai/golden.json"), "utf8")).prompts as {
    text: string;
  }[]
).map((p) => p.text);

beforeAll(async () => {
  const prepared = await prepareFixtureBundles(["tiny-openai", "tiny-gelu"]);
  dirs = prepared.dirs;
  cleanup = prepared.cleanup;
  tmp = join(dirs["tiny-openai"], "..");
  writeFileSync(join(tmp, "compare.py"), COMPARE);
});
afterAll(() => cleanup?.());

/** `condition` on the tiny-openai bundle with the sd15 preset; the test adds the rest. */
const sd15 = () => ["condition", "--model", dirs["tiny-openai"], "--preset", "sd15"];

function compare(spec: unknown) {
  return JSON.parse(
    execFileSync(pythonWithNumpy(), [join(tmp, "compare.py"), JSON.stringify(spec)], {
      encoding: "utf8",
    }),
  );
}

describe("clip-edge condition", () => {
  it("sd15 safetensors equals the golden last_hidden_state (read by numpy), with string metadata", async () => {
    const out = join(tmp, "sd15.safetensors");
    const t = io();
    const code = await main(
      [...sd15(), "--prompt", texts[0], "--prompt", texts[5], "--out", out],
      t.io,
    );
    expect(t.err()).toContain("prompt_embeds [2, 77, 64]");
    expect(code).toBe(0);
    const r = compare({
      kind: "safetensors",
      ours: out,
      compare: [
        {
          label: "pe",
          name: "prompt_embeds",
          golden: golden("tiny-openai"),
          golden_name: "last_hidden_state_pad49407",
          rows: [0, 5],
        },
      ],
    });
    expect(r.shapes.prompt_embeds).toEqual([2, 77, 64]);
    expect(r.shapes.negative_prompt_embeds).toEqual([2, 77, 64]);
    expect(r.dtypes.prompt_embeds).toBe("<f4");
    expect(r.diffs.pe).toBeLessThan(1e-4);
    expect(r.metadata.preset).toBe("sd15");
    expect(r.metadata.model_ids).toBe("tiny-openai");
    expect(r.metadata.model_hashes).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(r.metadata.token_counts)).toHaveLength(2);
    // Our own reader sees the same file.
    expect(parseSafetensors(readFileSync(out)).tensors.get("prompt_embeds")!.shape).toEqual([
      2, 77, 64,
    ]);
  });

  it("sd15 --clip-skip 1 --dtype float16 equals penultimate_post_ln within float16 rounding", async () => {
    const out = join(tmp, "skip.safetensors");
    const t = io();
    const code = await main(
      [...sd15(), "--prompt", texts[1], "--clip-skip", "1", "--dtype", "float16", "--out", out],
      t.io,
    );
    expect(code).toBe(0);
    const r = compare({
      kind: "safetensors",
      ours: out,
      compare: [
        {
          label: "pe",
          name: "prompt_embeds",
          golden: golden("tiny-openai"),
          golden_name: "penultimate_post_ln_pad49407",
          rows: [1],
        },
      ],
    });
    expect(r.dtypes.prompt_embeds).toBe("<f2");
    expect(r.diffs.pe).toBeLessThan(5e-3);
    expect(r.diffs.pe).toBeGreaterThan(0);
    expect(r.metadata.clip_skip).toBe("1");
  });

  it("sdxl --model2: halves equal each model's penultimate_pre_ln, pooled = tiny-gelu text_embeds", async () => {
    const out = join(tmp, "sdxl.safetensors");
    const t = io();
    const code = await main(
      [
        "condition",
        "--model",
        dirs["tiny-openai"],
        "--model2",
        dirs["tiny-gelu"],
        "--preset",
        "sdxl",
        "--prompt",
        texts[3],
        "--out",
        out,
      ],
      t.io,
    );
    expect(code).toBe(0);
    const r = compare({
      kind: "safetensors",
      ours: out,
      compare: [
        {
          label: "left",
          name: "prompt_embeds",
          feature_slice: [0, 64],
          golden: golden("tiny-openai"),
          golden_name: "penultimate_pre_ln_pad49407",
          rows: [3],
        },
        {
          label: "right",
          name: "prompt_embeds",
          feature_slice: [64, 160],
          golden: golden("tiny-gelu"),
          golden_name: "penultimate_pre_ln_pad0",
          rows: [3],
        },
        {
          label: "pooled",
          name: "pooled_prompt_embeds",
          golden: golden("tiny-gelu"),
          golden_name: "text_embeds",
          rows: [3],
        },
      ],
    });
    expect(r.shapes.prompt_embeds).toEqual([1, 77, 160]);
    expect(r.shapes.negative_pooled_prompt_embeds).toEqual([1, 64]);
    expect(r.diffs.left).toBeLessThan(1e-4);
    expect(r.diffs.right).toBeLessThan(1e-4);
    expect(r.diffs.pooled).toBeLessThan(1e-4);
  });

  it(".npy output loads with np.load and matches the golden", async () => {
    const out = join(tmp, "pe.npy");
    const t = io();
    const args = [...sd15(), "--prompt", texts[2], "--negative", "blurry", "--out", out];
    expect(await main(args, t.io)).toBe(0);
    // It reports what the file holds: prompt_embeds alone, and what .npy could not hold.
    expect(t.err()).toContain("(npy, float32): prompt_embeds [1, 77, 64]\n");
    expect(t.err()).toContain("not written: negative_prompt_embeds");
    const r = compare({
      kind: "npy",
      name: "prompt_embeds",
      ours: out,
      compare: [
        {
          label: "pe",
          name: "prompt_embeds",
          golden: golden("tiny-openai"),
          golden_name: "last_hidden_state_pad49407",
          rows: [2],
        },
      ],
    });
    expect(r.shapes.prompt_embeds).toEqual([1, 77, 64]);
    expect(r.diffs.pe).toBeLessThan(1e-4);
  });

  it("chunked long prompt with BREAK gives 77 x n", async () => {
    const out = join(tmp, "chunk.json");
    const code = await main(
      [
        ...sd15(),
        "--prompt",
        "a cat BREAK a dog",
        "--weighting",
        "a1111",
        "--long",
        "chunk",
        "--out",
        out,
      ],
      io().io,
    );
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(out, "utf8"));
    expect(json.tensors.prompt_embeds.shape).toEqual([1, 154, 64]);
    expect(json.tensors.negative_prompt_embeds.shape).toEqual([1, 154, 64]);
    expect(json.metadata.long_prompt).toBe("chunk");
  });

  it("usage errors exit 2 with one line", async () => {
    const a = io();
    expect(await main([...sd15(), "--out", "x.safetensors"], a.io)).toBe(2);
    expect(a.err()).toContain("--prompt");
    const b = io();
    expect(
      await main(
        [
          "condition",
          "--model",
          dirs["tiny-openai"],
          "--preset",
          "sdxl",
          "--prompt",
          "x",
          "--out",
          "x.safetensors",
        ],
        b.io,
      ),
    ).toBe(2);
    expect(b.err()).toContain("--model2");
    const c = io();
    expect(
      await main(
        [
          "condition",
          "--model",
          dirs["tiny-openai"],
          "--preset",
          "sd3",
          "--prompt",
          "x",
          "--out",
          "x",
        ],
        c.io,
      ),
    ).toBe(2);
    const d = io();
    expect(
      await main(
        [...sd15(), "--prompt", "x", "--clip-skip", "7", "--out", join(tmp, "e.safetensors")],
        d.io,
      ),
    ).toBe(1);
    expect(d.err()).toContain("K=3");
    expect(d.err().trim().split("\n")).toHaveLength(1);
    // An extension that names no format is refused before any work, not written as safetensors.
    const e = io();
    const txt = join(tmp, "e.txt");
    expect(await main([...sd15(), "--prompt", "x", "--out", txt], e.io)).toBe(2);
    expect(e.err()).toContain(".safetensors, .npy, .npz");
    expect(existsSync(txt)).toBe(false);
  });

  it("builds its request through the worker's schema: same caps, same messages", async () => {
    const out = join(tmp, "never.safetensors");
    for (const [flag, value, message] of [
      ["--num-images", "17", "num_images_per_prompt: must be an integer in 1..16"],
      ["--dtype", "int8", "dtype:"],
      ["--weighting", "strong", "weighting:"],
      ["--a1111-clip-skip", "0", "a1111_clip_skip: must be an integer >= 1"],
    ]) {
      const t = io();
      expect(await main([...sd15(), "--prompt", "x", flag, value, "--out", out], t.io)).toBe(2);
      expect(t.err()).toContain(message);
      expect(t.err().trim().split("\n")).toHaveLength(1);
    }
    const both = io();
    const args = ["--clip-skip", "1", "--a1111-clip-skip", "3", "--out", out];
    expect(await main([...sd15(), "--prompt", "x", ...args], both.io)).toBe(2);
    expect(both.err()).toContain("disagree");
  });
});
