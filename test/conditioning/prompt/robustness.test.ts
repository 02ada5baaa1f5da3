import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { parseA1111Attention } from "../../../conditioning/prompt/a1111-attention.ts";
import { parseA1111Schedule } from "../../../conditioning/prompt/a1111-schedule.ts";
import { parseComfyWeights } from "../../../conditioning/prompt/comfy-weights.ts";
import { parseCompel } from "../../../conditioning/prompt/compel.ts";
import { flattenPrompt, parsePrompt } from "../../../conditioning/prompt/parse-prompt.ts";

/**
 * Wall time per call in ms: the fastest of 7 rounds of at least 20 ms of repeated calls.
 * The minimum is the estimate least disturbed by a busy machine (noise only ever adds time).
 */
function time(fn: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 7; r += 1) {
    let calls = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 20) {
      fn();
      calls += 1;
    }
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return best;
}

describe("compel stays linear where the reference grammar is exponential", () => {
  // compel's pyparsing grammar takes ~8 s at 6 unclosed/nested "(" and ~100 s at 8.
  const cases: [string, (n: number) => string][] = [
    ["unclosed (", (n) => `${"(".repeat(n)}a b`],
    ["nested ()+", (n) => `${"(".repeat(n)}a${")+".repeat(n)}`],
    ["nested (...) with commas", (n) => `${"(a, ".repeat(n)}b${")".repeat(n)}`],
  ];
  it.each(cases)("%s: 4x the depth costs well under 16x the time (linear: 4x)", (_name, make) => {
    const smallText = make(50);
    const largeText = make(200);
    time(() => parseCompel(smallText)); // warm-up
    const small = time(() => parseCompel(smallText));
    const large = time(() => parseCompel(largeText));
    // linear predicts 4x, quadratic 16x; allow noise on a shared machine
    expect(large / Math.max(small, 0.05)).toBeLessThan(10);
    expect(large).toBeLessThan(2000);
  });

  it("parses depth 8 (about 100 s for the reference) instantly and correctly", () => {
    const text = `${"(".repeat(8)}a${")+".repeat(8)}`;
    const t0 = performance.now();
    const result = parseCompel(text);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(result).toEqual({
      fragments: [
        {
          kind: "prompt",
          conjunction_weight: 1,
          fragments: [["a", 1.1 ** 0 * 2.1435888100000016]],
        },
      ],
      lora_weights: [],
    });
  });
});

describe("deep nesting never overflows the stack", () => {
  const depth = 100_000;
  const round = `${"(".repeat(depth)}word${")".repeat(depth)}`;
  const square = `${"[".repeat(depth)}word${"]".repeat(depth)}`;

  it("A1111 attention: 100k levels, weight is 1.1 multiplied 100k times", () => {
    const result = parseA1111Attention(round) as [string, number][];
    expect(result).toHaveLength(1);
    expect(result[0][0]).toBe("word");
    expect(result[0][1]).toBe(Number.POSITIVE_INFINITY);
    const unclosed = parseA1111Attention(`${"[".repeat(depth)}word`) as [string, number][];
    // (1/1.1) multiplied 100k times underflows into the subnormal range, as in Python
    expect(unclosed[0][1]).toBeGreaterThan(0);
    expect(unclosed[0][1]).toBeLessThan(1e-300);
  });

  it("ComfyUI: 100k levels, and 100k unclosed", () => {
    expect(parseComfyWeights(round)).toEqual([["word", Number.POSITIVE_INFINITY]]);
    expect(parseComfyWeights(`${"(".repeat(depth)}(word:1.5)${")".repeat(depth)}`)).toEqual([
      ["word", 1.5],
    ]);
    const unclosed = parseComfyWeights(`${"(".repeat(depth)}word`);
    expect(unclosed).toEqual([[`${"(".repeat(depth)}word`, 1]]);
  });

  it("A1111 schedules: 100k levels without ':'/'|' are plain; with them a clear error", () => {
    expect(parseA1111Schedule(square, 20)).toEqual([{ endAtStep: 20, text: square }]);
    const scheduled = `${"[".repeat(depth)}a:b:5${"]".repeat(depth)}`;
    expect(parseA1111Schedule(scheduled, 20)).toEqual({
      error: expect.stringContaining("nested deeper than"),
    });
  });

  it("compel: 100k levels gives an error result, not a RangeError", () => {
    const result = parseCompel(round);
    expect(result).toEqual({ error: expect.stringContaining("nested 100000 deep") });
    expect(() => parsePrompt(round, { syntax: "compel" })).toThrow(ClipEdgeError);
  });

  it("compel at its depth limit (200) still parses", () => {
    const text = `${"(".repeat(200)}a b${")+".repeat(200)}`;
    const result = parseCompel(text);
    expect("fragments" in result).toBe(true);
  });
});

describe("arbitrary strings never throw unexpected exceptions", () => {
  const syntaxChars = fc.constantFrom(
    ..."()[]{}:|\\\"'+-.,=_ \t\n0123456789aAbBeE".split(""),
    "AND",
    "BREAK",
    ".blend(",
    ".and(",
    ".swap(",
    ".attend(",
    "withLora(",
    "inf",
    "nan",
    "é",
    "日",
    "🐱",
    "\u3000",
    "\u000b",
  );
  const promptText = fc.oneof(
    fc.array(syntaxChars, { maxLength: 40 }).map((parts) => parts.join("")),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 30 }),
  );

  it.each(["a1111", "comfy", "compel", "none"] as const)("%s: parsePrompt", (syntax) => {
    fc.assert(
      fc.property(promptText, (text) => {
        try {
          const conditionings = flattenPrompt(parsePrompt(text, { syntax, steps: 10 }));
          expect(Array.isArray(conditionings)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ClipEdgeError);
          expect((error as ClipEdgeError).code).toBe("invalid_input");
        }
      }),
      { numRuns: 400 },
    );
  });

  it("low-level parsers return a value or an {error} object", () => {
    fc.assert(
      fc.property(promptText, (text) => {
        for (const result of [
          parseA1111Attention(text),
          parseA1111Schedule(text, 20),
          parseComfyWeights(text),
          parseCompel(text),
        ]) {
          if (!Array.isArray(result)) {
            expect(typeof result).toBe("object");
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("compel is linear in the text length too", () => {
  it("16x longer input of nested groups costs about 16x, not 256x", () => {
    const unit = `${"(".repeat(20)}a, b${")+".repeat(10)} (c`;
    const small = unit.repeat(5);
    const large = unit.repeat(80);
    time(() => parseCompel(small));
    const ratio =
      time(() => parseCompel(large)) /
      Math.max(
        time(() => parseCompel(small)),
        0.01,
      );
    expect(ratio).toBeLessThan(60);
  });
});
