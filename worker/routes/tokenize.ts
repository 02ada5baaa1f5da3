/**
 * POST /v1/tokenize: what the encoder will see: BPE tokens with ids, offsets
 * (unweighted prompts), per-token weights, the 77-token chunks and the count
 * against the 75-token window. Compel `.blend()` / `.and()` prompts list every
 * member's tokens and chunks in order, and describe the structure in `parts`.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { defaultPromptParsers } from "../../conditioning/conditioner/default-parsers.ts";
import { type PromptStructure, promptStructure } from "../../conditioning/conditioner/fragments.ts";
import { defaultSyntax, REQUEST_DEFAULTS } from "../../conditioning/conditioner/request-schema.ts";
import {
  buildTokenChunks,
  CHUNK_TOKENS,
  type ChunkOptions,
} from "../../conditioning/conditioner/token-chunks.ts";
import type { TokenizerLike } from "../../conditioning/conditioner/types.ts";
import type { AppDeps } from "../app-deps.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import { errorResponses, TokenizeRequestSchema } from "../http/schemas.ts";
import { TokenizeAnyResponseSchema } from "./tokenize-schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/tokenize",
  summary: "Tokens, ids, offsets, weights and chunks of a prompt",
  request: {
    body: { content: { "application/json": { schema: TokenizeRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "Tokenization",
      content: { "application/json": { schema: TokenizeAnyResponseSchema } },
    },
    ...errorResponses,
  },
});

/** The conditioner's parsers (A1111, ComfyUI, Compel). */
const PARSERS = defaultPromptParsers();

export function registerTokenize(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    checkPrompts([body.prompt], deps.limits(), "prompt");
    const modelId = body.model ?? deps.defaultModel();
    const model = await deps.registry.get(modelId);
    const tokenizer = await model.tokenizer();
    const weighting = body.weighting ?? REQUEST_DEFAULTS.weighting;
    const longPrompt = body.long_prompt ?? REQUEST_DEFAULTS.long_prompt;
    const structure = promptStructure(body.prompt, defaultSyntax(weighting), PARSERS, longPrompt);
    const result = tokenizeStructure(structure, tokenizer, {
      mode: longPrompt,
      padId: model.manifest.tokenizer.padId,
      maxLength: model.manifest.tokenizer.maxLength || 77,
    });
    const offsets = weighting === "none" ? tokenizer.encodeWithOffsets(body.prompt) : undefined;
    const tokens = result.tokens.map((t, i) => {
      const offset = offsets?.[i];
      return offset && offset.id === t.id ? { ...t, start: offset.start, end: offset.end } : t;
    });
    return c.json(
      {
        object: "tokenization" as const,
        model: modelId,
        weighting,
        fragments: result.fragments,
        tokens,
        chunks: result.chunks,
        token_count: result.tokenCount,
        window: CHUNK_TOKENS,
        chunk_count: result.chunks.length,
        truncated: result.truncated,
        dropped_tokens: result.droppedTokens,
        dropped_text: result.droppedText,
        ...(result.parts ? { parts: result.parts } : {}),
      },
      200,
    );
  });
}

interface TokenOut {
  id: number;
  token: string;
  weight: number;
  fragment: number;
  chunk: number;
  part?: number;
  member?: number;
}

/**
 * Tokenizes every member of every part, in order, into one list of fragments, tokens and
 * chunks (indices are into those lists). `parts` only when there is more than one member.
 */
function tokenizeStructure(
  structure: PromptStructure,
  tokenizer: TokenizerLike & { idsToTokens(ids: readonly number[]): string[] },
  options: ChunkOptions,
) {
  const single = structure.parts.length === 1 && structure.parts[0].members.length === 1;
  const fragments: { text: string; weight: number }[] = [];
  const tokens: TokenOut[] = [];
  const chunks: { ids: number[]; weights: number[]; token_count: number }[] = [];
  let tokenCount = 0;
  let droppedTokens = 0;
  const dropped: string[] = [];
  const parts = structure.parts.map((part, p) => ({
    weight: part.weight,
    kind: part.members.length > 1 ? ("blend" as const) : ("prompt" as const),
    normalize: part.normalize,
    members: part.members.map((member, m) => {
      const fragmentBase = fragments.length;
      const chunkBase = chunks.length;
      fragments.push(...member.map((f) => ({ text: f.text, weight: f.weight })));
      const tokenized = buildTokenChunks(member, tokenizer, options);
      tokenized.chunks.forEach((chunk, index) => {
        chunks.push({ ids: chunk.ids, weights: chunk.weights, token_count: chunk.tokenCount });
        chunk.ids.forEach((id, position) => {
          if (chunk.fragments[position] < 0) return;
          tokens.push({
            id,
            token: "",
            weight: chunk.weights[position],
            fragment: fragmentBase + chunk.fragments[position],
            chunk: chunkBase + index,
            ...(single ? {} : { part: p, member: m }),
          });
        });
      });
      tokenCount += tokenized.tokenCount;
      droppedTokens += tokenized.droppedTokens;
      if (tokenized.droppedText) dropped.push(tokenized.droppedText);
      return {
        weight: part.memberWeights[m],
        fragments: range(fragmentBase, fragments.length),
        chunks: range(chunkBase, chunks.length),
        token_count: tokenized.tokenCount,
        truncated: tokenized.truncated,
      };
    }),
  }));
  const names = tokenizer.idsToTokens(tokens.map((t) => t.id));
  tokens.forEach((t, i) => {
    t.token = names[i];
  });
  return {
    fragments,
    tokens,
    chunks,
    tokenCount,
    truncated: parts.some((part) => part.members.some((member) => member.truncated)),
    droppedTokens,
    droppedText: dropped.join(" "),
    parts: single ? undefined : parts,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
