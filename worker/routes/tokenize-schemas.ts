/**
 * /v1/tokenize response: the shared schema with, for Compel blends / conjunctions, the
 * `parts` (the request, `TokenizeRequestSchema`, takes every weighting the conditioner does).
 */
import { z } from "@hono/zod-openapi";
import { TokenizeResponseSchema, TokenSchema } from "../http/schemas.ts";

const MemberSchema = z.object({
  weight: z.number().openapi({ description: "Blend weight (1 outside blends)" }),
  fragments: z.array(z.number().int()).openapi({ description: "Indices into `fragments`" }),
  chunks: z.array(z.number().int()).openapi({ description: "Indices into `chunks`" }),
  token_count: z.number().int(),
  truncated: z.boolean(),
});

export const TokenizeAnyResponseSchema = TokenizeResponseSchema.extend({
  tokens: z.array(
    TokenSchema.extend({
      part: z.number().int().optional(),
      member: z.number().int().optional(),
    }),
  ),
  parts: z
    .array(
      z.object({
        weight: z.number().openapi({ description: "Conjunction weight (Compel .and())" }),
        kind: z.enum(["prompt", "blend"]),
        normalize: z.boolean(),
        members: z.array(MemberSchema),
      }),
    )
    .optional()
    .openapi({
      description:
        "Only for Compel .blend() / .and() prompts: each part (concatenated along tokens) and its blended members; the top-level lists hold every member in order",
    }),
}).openapi("TokenizeResponse");
