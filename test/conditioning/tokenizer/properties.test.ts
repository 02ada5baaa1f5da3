import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBpe } from "../../../conditioning/tokenizer/bpe.ts";
import { parseMerges } from "../../../conditioning/tokenizer/files.ts";
import { createTokenizer, type NormalizationMode } from "../../../conditioning/tokenizer/index.ts";
import { fixtureTokenizer, vocabFiles } from "./helpers.ts";

const tokenizer = fixtureTokenizer();
const modes: NormalizationMode[] = ["openai", "hf"];

/** Any code point, lone surrogates included, mixed with characters the pipeline treats specially. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    maxLength: 80,
  }),
  fc.string({
    unit: fc.constantFrom(
      "a",
      "É",
      " ",
      "\t",
      "\n",
      "\r",
      "\u00a0",
      "\u3000",
      "\ufeff",
      "\u0085",
      "&",
      "amp;",
      "&#x27;",
      "&not",
      "<",
      "<|endoftext|>",
      "'s",
      "\u2019",
      "Ã",
      "©",
      "â€",
      "\u001b[31m",
      "\u0000",
      "ﬁ",
      "Ａ",
      "ｶ",
      "İ",
      "Σ",
      "\u0301",
      "🐶",
      "\u200d",
      "9",
      "٣",
      "½",
    ),
    maxLength: 40,
  }),
);

describe("tokenizer properties", () => {
  it("never throws on arbitrary Unicode and yields ids in range", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        for (const mode of modes) {
          const ids = tokenizer.encode(text, { mode });
          for (const id of ids) {
            expect(Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize).toBe(true);
          }
          const offsets = tokenizer.encodeWithOffsets(text, { mode });
          expect(offsets.map((t) => t.id)).toEqual(ids);
          offsets.forEach((t, i) => {
            expect(0 <= t.start && t.start <= t.end && t.end <= text.length).toBe(true);
            if (i > 0) expect(t.start).toBeGreaterThanOrEqual(offsets[i - 1].start);
          });
          const input = tokenizer.encodeForModel(text, { mode });
          expect(input.ids).toHaveLength(77);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("re-encoding the decoded text gives the same ids (text in normal form)", () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        for (const mode of modes) {
          const text = tokenizer.normalize(raw, { mode });
          const ids = tokenizer.encode(text, { mode });
          expect(tokenizer.encode(tokenizer.decode(ids), { mode })).toEqual(ids);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("the heap merge (long words) equals the reference merge loop", () => {
    const { vocab, merges } = vocabFiles();
    const options = {
      vocab: new Map(Object.entries(JSON.parse(new TextDecoder().decode(vocab)))) as Map<
        string,
        number
      >,
      merges: parseMerges(merges),
      cacheLimit: 0,
    };
    const loop = createBpe({ ...options, heapThreshold: Number.POSITIVE_INFINITY });
    const heap = createBpe({ ...options, heapThreshold: 0 });
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom("a", "b", "e", "r", "s", "t", "in", "ing", "é", "日"),
          minLength: 1,
          maxLength: 60,
        }),
        (word) => {
          expect(heap.encodeWord(word)).toEqual(loop.encodeWord(word));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("encoding time grows linearly with input length", () => {
    const uncached = createTokenizer(vocabFiles(), { cacheLimit: 0 });
    // Fastest of 5 runs: robust against other processes and GC pauses on a shared machine.
    const time = (text: string) => {
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < 5; r++) {
        const start = performance.now();
        uncached.encode(text);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const rng = fc.sample(fc.integer({ min: 0, max: 25 }), { numRuns: 400_000, seed: 42 });
    const letters = (n: number, offset: number) =>
      Array.from({ length: n }, (_, i) =>
        String.fromCharCode(97 + rng[(offset + i) % rng.length]),
      ).join("");
    const shapes: Record<string, (n: number) => string> = {
      // many distinct words (cache misses), one giant word (BPE), punctuation and digits, mojibake
      words: (n) => Array.from({ length: n / 8 }, (_, i) => letters(7, i * 7)).join(" "),
      oneWord: (n) => letters(n, 3),
      symbols: (n) => "!?1&amp;é\u2019 ".repeat(n / 12),
      mojibake: (n) => "caf\u00c3\u00a9 \u00e2\u20ac\u0153x ".repeat(n / 12),
    };
    for (const [name, make] of Object.entries(shapes)) {
      time(make(64_000)); // warm-up (JIT, large-string paths)
      const small = time(make(4_000));
      const large = time(make(64_000));
      // 16x the input: linear is ~16x, quadratic ~256x; generous bound for a noisy shared CI.
      expect(
        large / Math.max(small, 0.2),
        `${name}: ${small.toFixed(2)}ms -> ${large.toFixed(2)}ms`,
      ).toBeLessThan(100);
    }
  });
});
