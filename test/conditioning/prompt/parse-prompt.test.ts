import { describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { parseA1111Schedule } from "../../../conditioning/prompt/a1111-schedule.ts";
import { assertFiniteWeights } from "../../../conditioning/prompt/finite-weights.ts";
import { flattenPrompt, parsePrompt } from "../../../conditioning/prompt/parse-prompt.ts";

const g = (text: string) =>
  (parseA1111Schedule(text, 10) as { endAtStep: number; text: string }[]).map((e) => [
    e.endAtStep,
    e.text,
  ]);
const alternating = (a: string, b: string) =>
  Array.from({ length: 10 }, (_, i) => [i + 1, i % 2 === 0 ? a : b]);

describe("A1111 schedules: the doctests of prompt_parser.py (steps=10)", () => {
  it.each([
    ["test", [[10, "test"]]],
    [
      "a [b:3]",
      [
        [3, "a "],
        [10, "a b"],
      ],
    ],
    [
      "a [b: 3]",
      [
        [3, "a "],
        [10, "a b"],
      ],
    ],
    [
      "a [[[b]]:2]",
      [
        [2, "a "],
        [10, "a [[b]]"],
      ],
    ],
    [
      "[(a:2):3]",
      [
        [3, ""],
        [10, "(a:2)"],
      ],
    ],
    [
      "a [b : c : 1] d",
      [
        [1, "a b  d"],
        [10, "a  c  d"],
      ],
    ],
    [
      "a[b:[c:d:2]:1]e",
      [
        [1, "abe"],
        [2, "ace"],
        [10, "ade"],
      ],
    ],
    ["a [unbalanced", [[10, "a [unbalanced"]]],
    [
      "a [b:.5] c",
      [
        [5, "a  c"],
        [10, "a b c"],
      ],
    ],
    // upstream marks this doctest stale; the real output is a parse failure (text unchanged)
    ["a [{b|d{:.5] c", [[10, "a [{b|d{:.5] c"]]],
    [
      "((a][:b:c [d:3]",
      [
        [3, "((a][:b:c "],
        [10, "((a][:b:c d"],
      ],
    ],
    ["[a|(b:1.1)]", alternating("a", "(b:1.1)")],
    ["[fe|]male", alternating("female", "male")],
    ["[fe|||]male", Array.from({ length: 10 }, (_, i) => [i + 1, i % 4 === 0 ? "female" : "male"])],
  ])("%j", (text, want) => {
    expect(g(text)).toEqual(want);
  });
});

describe("parsePrompt / flattenPrompt", () => {
  it("a1111: AND parts x schedule entries become conditionings with step ranges", () => {
    const conditionings = flattenPrompt(
      parsePrompt("a [red:blue:3] car AND (sky:1.5) :0.7", { syntax: "a1111", steps: 10 }),
    );
    expect(conditionings).toEqual([
      {
        kind: "prompt",
        weight: 1,
        steps: { start: 1, end: 3 },
        fragments: [{ text: "a red car", weight: 1 }],
      },
      {
        kind: "prompt",
        weight: 1,
        steps: { start: 4, end: 10 },
        fragments: [{ text: "a blue car", weight: 1 }],
      },
      {
        kind: "prompt",
        weight: 0.7,
        steps: { start: 1, end: 10 },
        fragments: [
          { text: " ", weight: 1 },
          { text: "sky", weight: 1.5 },
        ],
      },
    ]);
  });

  it("marks A1111 BREAK (weight exactly -1) and not a bracketed BREAK (-1.1)", () => {
    const [plain] = flattenPrompt(parsePrompt("a BREAK b", { syntax: "a1111" }));
    expect(plain.kind === "prompt" && plain.fragments).toEqual([
      { text: "a", weight: 1 },
      { text: "BREAK", weight: -1, isBreak: true },
      { text: "b", weight: 1 },
    ]);
    const [inside] = flattenPrompt(parsePrompt("(a BREAK b)", { syntax: "a1111" }));
    expect(inside.kind === "prompt" && inside.fragments[1]).toEqual({
      text: "BREAK",
      weight: -1.1,
    });
    // Unicode word boundary: no split after a non-ASCII letter
    const [cafe] = flattenPrompt(parsePrompt("caféBREAK", { syntax: "a1111" }));
    expect(cafe.kind === "prompt" && cafe.fragments).toEqual([{ text: "caféBREAK", weight: 1 }]);
  });

  it("comfy and none give one conditioning", () => {
    expect(flattenPrompt(parsePrompt("((a (b:1.5)) c)", { syntax: "comfy" }))).toEqual([
      {
        kind: "prompt",
        weight: 1,
        fragments: [
          { text: "a ", weight: 1.2100000000000002 },
          { text: "b", weight: 1.5 },
          { text: " c", weight: 1.1 },
        ],
      },
    ]);
    expect(flattenPrompt(parsePrompt("(x:2)", { syntax: "none" }))).toEqual([
      { kind: "prompt", weight: 1, fragments: [{ text: "(x:2)", weight: 1 }] },
    ]);
  });

  it("compel: blend, and, swap keep their structure", () => {
    expect(flattenPrompt(parsePrompt('("a", "b-").blend(0.7, 0.3)', { syntax: "compel" }))).toEqual(
      [
        {
          kind: "blend",
          weight: 1,
          blendWeights: [0.7, 0.3],
          normalizeWeights: true,
          prompts: [[{ text: "a", weight: 1 }], [{ text: "b", weight: 0.9 }]],
        },
      ],
    );
    const and = flattenPrompt(parsePrompt('("a", "b").and(1, 0.5)', { syntax: "compel" }));
    expect(and.map((c) => c.weight)).toEqual([1, 0.5]);
    const [swap] = flattenPrompt(parsePrompt("a cat.swap(dog)", { syntax: "compel" }));
    expect(swap.kind).toBe("swap");
    expect(swap.kind === "swap" && swap.edited.map((f) => f.text)).toEqual(["a", "dog"]);
  });

  it("texts the reference rejects throw ClipEdgeError(invalid_input) with its message", () => {
    for (const [text, syntax, reference] of [
      ["(word:1.2.3)", "a1111", "ValueError: could not convert string to float: '1.2.3'"],
      ['("a", "b").blend(0.5)', "compel", "ParsingException: while parsing Blend"],
    ] as const) {
      try {
        parsePrompt(text, { syntax });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ClipEdgeError);
        expect((error as ClipEdgeError).code).toBe("invalid_input");
        expect((error as ClipEdgeError).message).toContain(JSON.stringify(text));
        expect(String((error as ClipEdgeError).details?.reference)).toContain(reference);
      }
    }
    expect(() => parsePrompt("x", { syntax: "sdxl" as never })).toThrow(/unknown prompt syntax/);
  });
});

describe("assertFiniteWeights", () => {
  it("passes finite weights", () => {
    expect(() =>
      assertFiniteWeights(flattenPrompt(parsePrompt("(a:1.5) [b]", { syntax: "a1111" }))),
    ).not.toThrow();
  });

  it.each([
    ["comfy", "(word:inf)", "word", "Infinity"],
    ["comfy", "x (cat:nan)", "cat", "NaN"],
    ["comfy", "(dog:-INFINITY)", "dog", "-Infinity"],
    ["a1111", `(big:1${"0".repeat(400)})`, "big", "Infinity"],
  ] as const)("%s %j is parsed, then rejected naming the fragment", (syntax, text, name, shown) => {
    const conditionings = flattenPrompt(parsePrompt(text, { syntax }));
    expect(() => assertFiniteWeights(conditionings)).toThrow(ClipEdgeError);
    try {
      assertFiniteWeights(conditionings);
    } catch (error) {
      expect((error as ClipEdgeError).code).toBe("invalid_input");
      expect((error as ClipEdgeError).message).toContain(`"${name}"`);
      expect((error as ClipEdgeError).message).toContain(shown);
    }
  });

  it("checks plain fragment lists and blend weights too", () => {
    expect(() => assertFiniteWeights([{ text: "x", weight: Number.NaN }])).toThrow(/"x"/);
    const blend = flattenPrompt(parsePrompt('("a", "b").blend(1, 1)', { syntax: "compel" }));
    if (blend[0].kind === "blend") blend[0].blendWeights[1] = Number.POSITIVE_INFINITY;
    expect(() => assertFiniteWeights(blend)).toThrow(/blend weight 1/);
  });
});
