import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { buildTokenizerJson, fixtureTokenizer, readCases } from "./helpers.ts";

const cases = readCases();
const tokenizer = fixtureTokenizer();

describe("CLIP tokenizer vs OpenAI SimpleTokenizer.encode (cases.jsonl)", () => {
  it("reads all 1830 cases (1632 PartiPrompts + 198 hard)", () => {
    expect(cases).toHaveLength(1830);
    expect(cases.filter((c) => c.source === "parti")).toHaveLength(1632);
    expect(cases.filter((c) => c.source.startsWith("hard:"))).toHaveLength(198);
  });

  it("matches every case exactly in openai mode", () => {
    const failures = cases
      .filter((c) => JSON.stringify(tokenizer.encode(c.text)) !== JSON.stringify(c.ids))
      .map((c) => `${c.source} ${JSON.stringify(c.text)}`);
    expect(failures).toEqual([]);
  });

  const categories = [...new Set(cases.map((c) => c.source))];
  it.each(categories)("category %s matches", (category) => {
    for (const c of cases.filter((x) => x.source === category)) {
      expect(tokenizer.encode(c.text, { mode: "openai" }), JSON.stringify(c.text)).toEqual(c.ids);
    }
  });
});

describe("hf mode", () => {
  // The fixtures only hold OpenAI ids; HF's fast-tokenizer behaviour is checked against
  // @huggingface/tokenizers running a CLIP tokenizer.json (HF's clip-vit-* format).
  const hf = new HfTokenizer(buildTokenizerJson() as never, { model_max_length: 77 } as never);

  it("matches @huggingface/tokenizers on every case", () => {
    const failures = cases
      .filter((c) => {
        const expected = hf.encode(c.text, { add_special_tokens: false }).ids;
        return (
          JSON.stringify(tokenizer.encode(c.text, { mode: "hf" })) !== JSON.stringify(expected)
        );
      })
      .map((c) => JSON.stringify(c.text));
    expect(failures).toEqual([]);
  });

  it("differs from openai mode exactly where ftfy / html.unescape change the text", () => {
    expect(tokenizer.encode("Tom &amp; Jerry", { mode: "hf" })).toEqual(
      tokenizer.encode("tom & amp ; jerry"),
    );
    expect(tokenizer.encode("Tom &amp; Jerry")).toEqual(tokenizer.encode("tom & jerry"));
    expect(tokenizer.encode("don\u2019t", { mode: "hf" })).not.toEqual(
      tokenizer.encode("don\u2019t"),
    );
    expect(tokenizer.encode("caf\u00c3\u00a9")).toEqual(tokenizer.encode("caf\u00e9"));
    expect(tokenizer.encode("caf\u00c3\u00a9", { mode: "hf" })).not.toEqual(
      tokenizer.encode("caf\u00e9"),
    );
  });
});
