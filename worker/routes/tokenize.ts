/**
 * POST /v1/tokenize: what the encoder will see: BPE tokens with ids, offsets
 * (unweighted prompts), per-token weights, the 77-token chunks and the count
 * against the 75-token window.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { defaultSyntax, promptFragments } from "../../conditioning/conditioning/fragments.ts";
import { buildTokenChunks, CHUNK_TOKENS } from "../../conditioning/conditioning/token-chunks.ts";
import type { AppDeps } from "../app-context.ts";
import { checkPrompts } from "../http/prompt-limits.ts";
import { errorResponses, TokenizeRequestSchema, TokenizeResponseSchema } from "../http/schemas.ts";
import { DEFAULT_PARSERS } from "./conditioning.ts";

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
      content: { "application/json": { schema: TokenizeResponseSchema } },
    },
    ...errorResponses,
  },
});

export function registerTokenize(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    checkPrompts([body.prompt], deps.limits(), "prompt");
    const modelId = body.model ?? deps.defaultModel();
    const model = await deps.registry.get(modelId);
    const tokenizer = await model.tokenizer();
    const weighting = body.weighting ?? "none";
    const longPrompt = body.long_prompt ?? "truncate";
    const fragments = promptFragments(
      body.prompt,
      defaultSyntax(weighting),
      DEFAULT_PARSERS,
      longPrompt,
    );
    const tokenized = buildTokenChunks(fragments, tokenizer, {
      mode: longPrompt,
      padId: model.manifest.tokenizer.padId,
      maxLength: model.manifest.tokenizer.maxLength || 77,
    });
    const offsets = weighting === "none" ? tokenizer.encodeWithOffsets(body.prompt) : undefined;
    const tokens: {
      id: number;
      token: string;
      weight: number;
      fragment: number;
      chunk: number;
      start?: number;
      end?: number;
    }[] = [];
    tokenized.chunks.forEach((chunk, index) => {
      chunk.ids.forEach((id, position) => {
        if (chunk.fragments[position] < 0) return;
        const token = {
          id,
          token: "",
          weight: chunk.weights[position],
          fragment: chunk.fragments[position],
          chunk: index,
        };
        const offset = offsets?.[tokens.length];
        tokens.push(
          offset && offset.id === id ? { ...token, start: offset.start, end: offset.end } : token,
        );
      });
    });
    const names = tokenizer.idsToTokens(tokens.map((t) => t.id));
    tokens.forEach((t, i) => {
      t.token = names[i];
    });
    return c.json(
      {
        object: "tokenization" as const,
        model: modelId,
        weighting,
        fragments: fragments.map((f) => ({ text: f.text, weight: f.weight })),
        tokens,
        chunks: tokenized.chunks.map((chunk) => ({
          ids: chunk.ids,
          weights: chunk.weights,
          token_count: chunk.tokenCount,
        })),
        token_count: tokenized.tokenCount,
        window: CHUNK_TOKENS,
        chunk_count: tokenized.chunks.length,
        truncated: tokenized.truncated,
        dropped_tokens: tokenized.droppedTokens,
        dropped_text: tokenized.droppedText,
      },
      200,
    );
  });
}
