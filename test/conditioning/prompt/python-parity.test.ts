import { describe, expect, it } from "vitest";
import { parseComfyWeights } from "../../../conditioning/prompt/comfy-weights.ts";
import { parseCompel } from "../../../conditioning/prompt/compel.ts";
import { exactPowInt } from "../../../conditioning/prompt/exact-pow.ts";
import { pyExpandTabs, pyFloat } from "../../../conditioning/prompt/py-text.ts";

// Expected values below were computed with CPython 3.11 (`pow(1.1, n)`, `float(s)`), the
// interpreter the goldens were generated with. Found by differential fuzzing against the
// reference parsers; the goldens alone do not exercise them.

describe("compel weights use C pow(), not repeated multiplication", () => {
  it.each([
    [1.1, 4, 1.4641000000000004], // 1.1 ** 4 in JavaScript is 1.4641000000000006
    [0.9, 4, 0.6561], // 0.9 ** 4 in JavaScript is 0.6561000000000001
    [1.1, 10, 2.5937424601000023],
    [0.9, 3, 0.7290000000000001],
  ])("pow(%d, %d) = %d", (base, n, want) => {
    expect(exactPowInt(base, n)).toBe(want);
  });

  it("is correctly rounded: agrees with the exact BigInt product for many n", () => {
    for (let n = 1; n <= 60; n += 1) {
      const value = exactPowInt(1.1, n);
      // neighbours one ulp away must be farther from the exact value: compare via BigInt
      const exact = 4953959590107546n ** BigInt(n); // 1.1 = 4953959590107546 * 2^-52
      const scaleBits = 52n * BigInt(n);
      const err = (x: number) => {
        const [m, e] = decompose(x);
        const lhs = e >= 0 ? (m << BigInt(e)) << scaleBits : (m << scaleBits) >> BigInt(-e);
        const diff = lhs - exact;
        return diff < 0n ? -diff : diff;
      };
      const up = nextUp(value);
      const down = nextDown(value);
      expect(err(value) <= err(up) && err(value) <= err(down), `n=${n}`).toBe(true);
    }
  });

  it("word++++ and word---- in compel", () => {
    expect(parseCompel("word++++")).toEqual({
      fragments: [
        { kind: "prompt", conjunction_weight: 1, fragments: [["word", 1.4641000000000004]] },
      ],
      lora_weights: [],
    });
    expect(parseCompel("-1----")).toEqual({
      fragments: [{ kind: "prompt", conjunction_weight: 1, fragments: [["-1", 0.6561]] }],
      lora_weights: [],
    });
  });
});

describe("Python float() whitespace", () => {
  it("strips ASCII \\t\\n\\v\\f\\r and space and non-ASCII whitespace, but not \\x1c-\\x1f", () => {
    expect(pyFloat(" \t1.5\u3000\u0085")).toBe(1.5);
    expect(pyFloat("1e2\u001c")).toBeUndefined();
    expect(pyFloat("\u001f2")).toBeUndefined();
  });

  it("ComfyUI keeps (x:1e2\\x1c) literal at 1.1, like Python", () => {
    expect(parseComfyWeights("(b:1_5\u001c)")).toEqual([["b:1_5\u001c", 1.1]]);
    expect(parseComfyWeights("(b:1_5\u3000)")).toEqual([["b", 15]]);
  });
});

describe("pyparsing expands tabs before parsing", () => {
  it("str.expandtabs(8)", () => {
    expect(pyExpandTabs("a\tb")).toBe(`a${" ".repeat(7)}b`);
    expect(pyExpandTabs("abcdefgh\tx\n\ty")).toBe(`abcdefgh${" ".repeat(8)}x\n${" ".repeat(8)}y`);
  });

  it("ParseException positions count expanded tabs and code points", () => {
    expect(parseCompel("🐱\ta\u000bb")).toEqual({
      error: "ParseException: Expected end of text, found '\\x0b'  (at char 9), (line:1, col:10)",
    });
  });
});

function decompose(x: number): [bigint, number] {
  let m = x;
  let e = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    e -= 1;
  }
  return [BigInt(m), e];
}

function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

function nextDown(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
}
