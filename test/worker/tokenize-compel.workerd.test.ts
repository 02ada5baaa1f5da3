/** POST /v1/tokenize with Compel blends and conjunctions (several token lists per prompt). */
import { beforeAll, describe, expect, it } from "vitest";
import { post } from "./helpers/client.ts";
import { seedBundle } from "./helpers/seed.ts";

interface Tokenization {
  fragments: { text: string; weight: number }[];
  tokens: {
    id: number;
    weight: number;
    fragment: number;
    chunk: number;
    part?: number;
    member?: number;
  }[];
  chunks: { ids: number[]; weights: number[]; token_count: number }[];
  token_count: number;
  chunk_count: number;
  parts?: {
    weight: number;
    kind: string;
    normalize: boolean;
    members: { weight: number; fragments: number[]; chunks: number[]; token_count: number }[];
  }[];
}

beforeAll(async () => {
  await seedBundle();
});

async function tokenize(prompt: string, weighting = "compel"): Promise<Tokenization> {
  const response = await post("/v1/tokenize", { prompt, weighting });
  expect(response.status).toBe(200);
  return (await response.json()) as Tokenization;
}

const ids = (t: Tokenization, part?: number, member?: number) =>
  t.tokens.filter((x) => x.part === part && x.member === member).map((x) => x.id);

describe("POST /v1/tokenize with compel", () => {
  it("a .blend() lists each member's tokens and chunks, with the blend weights", async () => {
    const blend = await tokenize('("a red cat", "a blue dog").blend(0.7, 0.3)');
    const [cat, dog] = [await tokenize("a red cat", "none"), await tokenize("a blue dog", "none")];
    expect(blend.parts).toEqual([
      {
        weight: 1,
        kind: "blend",
        normalize: true,
        members: [
          { weight: 0.7, fragments: [0], chunks: [0], token_count: 3, truncated: false },
          { weight: 0.3, fragments: [1], chunks: [1], token_count: 3, truncated: false },
        ],
      },
    ]);
    expect(blend.fragments).toEqual([
      { text: "a red cat", weight: 1 },
      { text: "a blue dog", weight: 1 },
    ]);
    expect(ids(blend, 0, 0)).toEqual(ids(cat));
    expect(ids(blend, 0, 1)).toEqual(ids(dog));
    expect(blend.chunks.map((c) => c.ids)).toEqual([cat.chunks[0].ids, dog.chunks[0].ids]);
    expect(blend.chunk_count).toBe(2);
    expect(blend.token_count).toBe(6);
  });

  it("an .and() lists its parts with their conjunction weights and fragment weights", async () => {
    const and = await tokenize('("a (red)++ cat", "a blue sky").and(1, 0.5)');
    expect(and.parts?.map((p) => [p.kind, p.weight, p.members.length])).toEqual([
      ["prompt", 1, 1],
      ["prompt", 0.5, 1],
    ]);
    expect(and.fragments.map((f) => f.text)).toEqual(["a", "red", "cat", "a blue sky"]);
    expect(and.fragments[1].weight).toBeCloseTo(1.21, 6);
    const red = and.tokens.find((t) => t.fragment === 1)!;
    expect([red.part, red.member, red.chunk, red.weight]).toEqual([
      0,
      0,
      0,
      and.fragments[1].weight,
    ]);
    expect(and.tokens.filter((t) => t.part === 1).every((t) => t.chunk === 1)).toBe(true);
    expect(and.chunks.every((c) => c.ids.length === 77)).toBe(true);
  });

  it("a plain compel prompt keeps the single-list answer (no parts)", async () => {
    const plain = await tokenize("a (red)++ cat");
    expect(plain.parts).toBeUndefined();
    expect(plain.tokens.every((t) => t.part === undefined)).toBe(true);
    expect(plain.fragments.map((f) => f.text)).toEqual(["a", "red", "cat"]);
    expect(plain.chunk_count).toBe(1);
  });
});
