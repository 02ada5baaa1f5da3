import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { parseConditioningRequest } from "../../../conditioning/conditioner/request-schema.ts";
import { ConditioningRequestSchema } from "../../../worker/http/schemas.ts";

/** Issues of a parse as "path: message" (empty when it passes). */
function issues(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  return result.success ? [] : result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("/v1/conditioning request schema (the core's, extended)", () => {
  it("refuses what the core refuses, with the same messages", () => {
    for (const request of [
      { prompt: "a", num_images_per_prompt: 17 },
      { prompt: "a", prompts: ["b"] },
      { prompts: ["a"], negative_prompt: ["x", "y"] },
      { prompt: "a", clip_skip: -1 },
      { prompt: "a", dtype: "int8" },
    ]) {
      const worker = issues(ConditioningRequestSchema.safeParse(request));
      expect(worker.length).toBeGreaterThan(0);
      expect(() => parseConditioningRequest(request)).toThrow(worker.join("; "));
    }
  });

  it("keeps the API's fields: model, preset and format are the worker's, composition is not served", () => {
    const ok = ConditioningRequestSchema.safeParse({
      prompt: "a",
      model: ["l", "g"],
      preset: "sdxl",
      format: "npy",
      num_images_per_prompt: 16,
    });
    expect(ok.success).toBe(true);
    expect(
      issues(ConditioningRequestSchema.safeParse({ prompt: "a", preset: "sd3" })),
    ).toHaveLength(1);
    const stripped = ConditioningRequestSchema.parse({
      prompt: "a",
      composition: "a1111",
      steps: 3,
    });
    expect(stripped).toEqual({ prompt: "a" });
  });

  it("documents the core's caps in the OpenAPI document", () => {
    const app = new OpenAPIHono();
    app.openapi(
      createRoute({
        method: "post",
        path: "/c",
        request: {
          body: { content: { "application/json": { schema: ConditioningRequestSchema } } },
        },
        responses: { 200: { description: "ok" } },
      }),
      (c) => c.text("ok") as never,
    );
    const doc = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "t", version: "1" },
    });
    const schema = doc.components!.schemas!.ConditioningRequest as {
      properties: Record<string, { maximum?: number; description?: string }>;
    };
    expect(schema.properties.num_images_per_prompt.maximum).toBe(16);
    expect(schema.properties.weighting.description).toBe("Default none");
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        "clip_skip",
        "dtype",
        "format",
        "long_prompt",
        "model",
        "negative_prompt",
        "num_images_per_prompt",
        "preset",
        "prompt",
        "prompts",
        "weighting",
      ].sort(),
    );
  });
});
