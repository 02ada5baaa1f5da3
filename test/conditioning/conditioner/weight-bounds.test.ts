import { describe, expect, it } from "vitest";
import {
  assertFiniteRows,
  MAX_ABS_WEIGHT,
} from "../../../conditioning/conditioner/weight-bounds.ts";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { sd15 } from "./conditioner-setup.ts";
import { encodeRequest } from "./helpers.ts";

const nested = (n: number) => `${"(".repeat(n)}cat${")".repeat(n)}`;

/** The non-finite cases (#12) and their neighbours: refused before any encoding. */
const REFUSED = [
  {
    name: "compel blend(0,0): weights sum to 0",
    prompt: '("cat","dog").blend(0,0)',
    weighting: "compel",
    message: /blend\(0, 0\).*sum to 0/,
  },
  {
    name: "compel blend(-1,1): weights sum to 0",
    prompt: '("cat","dog").blend(-1,1)',
    weighting: "compel",
    message: /blend\(-1, 1\).*sum to 0/,
  },
  {
    name: "compel blend with a near-zero sum",
    prompt: '("cat","dog").blend(1,-0.99999)',
    weighting: "compel",
    message: /too close to 0/,
  },
  {
    name: "1,999 nested parentheses under A1111",
    prompt: nested(1999),
    weighting: "a1111",
    message: /fragment "cat" has weight 5\.546e\+82, beyond the limit.*\(cat:1\.5\)/,
  },
  {
    name: "1,999 nested parentheses under A1111 without normalisation",
    prompt: nested(1999),
    weighting: "a1111-no-norm",
    message: /fragment "cat" has weight 5\.546e\+82/,
  },
  {
    name: "1,999 nested parentheses under ComfyUI",
    prompt: nested(1999),
    weighting: "comfy",
    message: /fragment "cat" has weight 5\.546e\+82/,
  },
  {
    name: "(cat:1e308) under ComfyUI",
    prompt: "(cat:1e308)",
    weighting: "comfy",
    message: /fragment "cat" has weight 1\.000e\+308/,
  },
  {
    name: "(cat:inf) under ComfyUI",
    prompt: "(cat:inf)",
    weighting: "comfy",
    message: /not a finite number/,
  },
  {
    name: "(cat:-2000) under A1111",
    prompt: "(cat:-2000)",
    weighting: "a1111",
    message: /weight -2000, beyond the limit/,
  },
  {
    name: "x followed by 3,990 + under Compel",
    prompt: `x${"+".repeat(3990)}`,
    weighting: "compel",
    message: /fragment "x" has weight 1\.435e\+165.*each \+ multiplies by 1\.1/,
  },
  {
    name: "compel .and() with a huge conjunction weight",
    prompt: '("cat", "dog").and(1, 5000)',
    weighting: "compel",
    message: /\.and\(\) part 2 has weight 5000, beyond/,
  },
] as const;

describe("weight bounds: non-finite or runaway weights are invalid_input before encoding", () => {
  it.each(REFUSED)("$name", async ({ prompt, weighting, message }) => {
    const { session, conditioner } = sd15();
    const error = await encodeRequest(conditioner, { prompt, weighting }).catch((e) => e);
    expect(error).toBeInstanceOf(ClipEdgeError);
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(message);
    expect(session.calls).toHaveLength(0);
  });

  it.each([
    { prompt: nested(40), weighting: "a1111" }, // 1.1^40 = 45
    { prompt: "(cat:1000)", weighting: "comfy" },
    { prompt: '("cat","dog").blend(-1,2)', weighting: "compel" },
    { prompt: `x${"-".repeat(3990)}`, weighting: "compel" }, // 0.9^3990: tiny, finite
  ] as const)("within bounds: $prompt ($weighting) encodes to finite tensors", async (req) => {
    const { conditioner } = sd15();
    const r = await encodeRequest(conditioner, { ...req, do_classifier_free_guidance: false });
    expect(r.tensors.prompt_embeds.data.every(Number.isFinite)).toBe(true);
  });

  it(`the bound is ${MAX_ABS_WEIGHT} inclusive`, async () => {
    const { conditioner } = sd15();
    await expect(
      encodeRequest(conditioner, { prompt: `(cat:${MAX_ABS_WEIGHT + 1})`, weighting: "comfy" }),
    ).rejects.toThrow(/beyond the limit of ±1000/);
  });
});

describe("assertFiniteRows (last guard on weighted hidden states)", () => {
  it("names the prompt, the weighting and the token position of the first non-finite value", () => {
    const z = new Float32Array(4 * 3).fill(0.5);
    z[7] = Number.POSITIVE_INFINITY; // position 2 (width 3)
    expect(() => assertFiniteRows(z, 3, "a cat", "a1111")).toThrow(
      /prompt "a cat": a1111 weighting gives a non-finite value \(Infinity\) at token position 2/,
    );
    z[7] = Number.NaN;
    expect(() => assertFiniteRows(z, 3, "a cat", "comfy")).toThrow(/NaN/);
    expect(() => assertFiniteRows(new Float32Array(6), 3, "ok", "comfy")).not.toThrow();
  });
});
