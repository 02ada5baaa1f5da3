import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildTokenChunks,
  EOT_ID,
  isBreak,
  SOT_ID,
} from "../../../conditioning/conditioner/token-chunks.ts";
import type { WeightedFragment } from "../../../conditioning/conditioner/types.ts";
import { fixtureTokenizer } from "./helpers.ts";

const tok = fixtureTokenizer();
const word = fc.constantFrom("cat", "astronaut", "a", ",", "red", "élan", "日本", "x1", "!!", "");
const fragment: fc.Arbitrary<WeightedFragment> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      text: fc.array(word, { maxLength: 40 }).map((w) => w.join(" ")),
      weight: fc.double({ min: 0.1, max: 2, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ text: "BREAK", weight: -1 }) },
);

describe("token chunks (properties)", () => {
  it("chunks are [SOT] + <=75 tokens + [EOT] + pad, carry every token in order with its fragment's weight", () => {
    fc.assert(
      fc.property(
        fc.array(fragment, { maxLength: 8 }),
        fc.constantFrom("truncate", "chunk"),
        fc.constantFrom(0, 49407),
        fc.constantFrom(0, 20),
        (fragments, mode, padId, commaBacktrack) => {
          const r = buildTokenChunks(fragments, tok, { mode, padId, commaBacktrack });
          const expected: { id: number; weight: number; owner: number }[] = [];
          fragments.forEach((f, i) => {
            if (isBreak(f)) return;
            for (const id of tok.encode(f.text)) expected.push({ id, weight: f.weight, owner: i });
          });
          expect(r.tokenCount).toBe(expected.length);
          const got: { id: number; weight: number; owner: number }[] = [];
          for (const c of r.chunks) {
            expect(c.ids).toHaveLength(77);
            expect(c.tokenCount).toBeLessThanOrEqual(75);
            expect(c.ids[0]).toBe(SOT_ID);
            expect(c.ids[c.tokenCount + 1]).toBe(EOT_ID);
            expect(c.ids.slice(c.tokenCount + 2).every((id) => id === padId)).toBe(true);
            expect(c.weights[0]).toBe(1);
            expect(c.weights.slice(c.tokenCount + 1).every((w) => w === 1)).toBe(true);
            for (let p = 1; p <= c.tokenCount; p++) {
              got.push({ id: c.ids[p], weight: c.weights[p], owner: c.fragments[p] });
            }
          }
          if (mode === "truncate") {
            expect(r.chunks).toHaveLength(1);
            expect(got).toEqual(expected.slice(0, 75));
            expect(r.droppedTokens).toBe(Math.max(0, expected.length - 75));
            expect(r.truncated).toBe(expected.length > 75);
          } else {
            expect(got).toEqual(expected);
            expect(r.truncated).toBe(false);
            const breaks = fragments.filter(isBreak).length;
            expect(r.chunks.length).toBeLessThanOrEqual(
              Math.ceil(expected.length / 55) + breaks + 1,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
