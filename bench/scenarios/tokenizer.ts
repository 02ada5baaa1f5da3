/**
 * Tokenizer throughput on PartiPrompts (the 1632 `parti` cases of the fixtures), in prompts/s
 * on one core: openai mode (ftfy + BPE, what the worker runs), hf mode, the same without the
 * BPE word cache, and @huggingface/tokenizers (hf semantics) as a baseline in the same run.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  createTokenizer,
  parseMerges,
  type Tokenizer,
} from "../../conditioning/tokenizer/index.ts";
import { clipTokenizerJson } from "../../conditioning/tokenizer/tokenizer-json.ts";
import type { BenchContext, Scenario } from "../harness.ts";

function fixturesDir(): string {
  return process.env.CLIP_EDGE_FIXTURES
    ? resolve(process.env.CLIP_EDGE_FIXTURES)
    : resolve(import.meta.dirname, "..", "..", "..", "shared", "fixtures");
}

function loadPrompts(dir: string): string[] {
  return readFileSync(join(dir, "tokenizer", "cases.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { text: string; source: string })
    .filter((c) => c.source === "parti")
    .map((c) => c.text);
}

async function loadHfBaseline(vocab: string, merges: string) {
  try {
    const { Tokenizer: HfTokenizer } = await import("@huggingface/tokenizers");
    const json = clipTokenizerJson(JSON.parse(vocab), parseMerges(merges));
    const tokenizer = new HfTokenizer(json as never, { model_max_length: 77 } as never);
    return (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids;
  } catch (error) {
    return `unavailable: ${(error as Error).message}`;
  }
}

async function throughput(
  ctx: BenchContext,
  variant: string,
  prompts: readonly string[],
  encode: (text: string) => unknown,
  baseline?: number,
) {
  const timing = await ctx.measure(
    () => {
      for (const text of prompts) encode(text);
    },
    { runs: ctx.quick ? 5 : 11, warmup: 2, warmupMs: ctx.quick ? 200 : 500 },
  );
  const perSecond = prompts.length / (timing.median_ms / 1000);
  ctx.report({
    scenario: "tokenizer",
    variant,
    runtime: `node ${process.versions.node}`,
    median_ms: timing.median_ms,
    p95_ms: timing.p95_ms,
    runs: timing.runs,
    throughput: Math.round(perSecond),
    unit: "prompts/s",
    prompts: prompts.length,
    x_baseline: baseline ? Number((perSecond / baseline).toFixed(2)) : undefined,
  });
  return perSecond;
}

export const scenario: Scenario = {
  name: "tokenizer",
  description: "CLIP tokenizer throughput on PartiPrompts (prompts/s), vs @huggingface/tokenizers",
  async run(ctx) {
    const dir = fixturesDir();
    const vocab = readFileSync(join(dir, "vocab", "vocab.json"), "utf8");
    const merges = readFileSync(join(dir, "vocab", "merges.txt"), "utf8");
    let tokenizer: Tokenizer | undefined;
    const load = await ctx.measure(
      () => {
        tokenizer = createTokenizer({ vocab, merges });
      },
      { runs: ctx.quick ? 2 : 5, warmup: 1 },
    );
    ctx.report({
      scenario: "tokenizer",
      variant: "load vocab.json+merges.txt",
      runtime: `node ${process.versions.node}`,
      median_ms: load.median_ms,
      p95_ms: load.p95_ms,
      runs: load.runs,
    });
    const all = loadPrompts(dir);
    const prompts = ctx.quick ? all.slice(0, 400) : all;
    const t = tokenizer!;
    const uncached = createTokenizer({ vocab, merges }, { cacheLimit: 0 });
    const hfBaseline = await loadHfBaseline(vocab, merges);
    if (typeof hfBaseline === "string")
      ctx.note(`tokenizer: @huggingface/tokenizers baseline ${hfBaseline}`);
    const baseline =
      typeof hfBaseline === "function"
        ? await throughput(ctx, "@huggingface/tokenizers 0.2.0 (hf, baseline)", prompts, hfBaseline)
        : undefined;
    const ratio = (value: number) => (baseline ? (value / baseline).toFixed(1) : "?");
    const variants: Array<[string, (text: string) => unknown]> = [
      ["openai (ftfy), cached", (text) => t.encode(text)],
      ["hf, cached", (text) => t.encode(text, { mode: "hf" })],
      ["openai, no BPE cache", (text) => uncached.encode(text)],
      ["openai encodeForModel(77)", (text) => t.encodeForModel(text)],
    ];
    const rates: number[] = [];
    for (const [variant, encode] of variants) {
      rates.push(await throughput(ctx, variant, prompts, encode, baseline));
    }
    const [openai, hf, cold] = rates;
    ctx.note(
      `tokenizer: openai ${Math.round(openai)} prompts/s, hf ${Math.round(hf)}, no-cache ${Math.round(cold)}` +
        (baseline
          ? `; @huggingface/tokenizers ${Math.round(baseline)} -> openai x${ratio(openai)}, hf x${ratio(hf)}`
          : "; @huggingface/tokenizers not installed"),
    );
  },
};
