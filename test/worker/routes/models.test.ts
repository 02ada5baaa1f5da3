import { describe, expect, it } from "vitest";
import type { BundleManifest } from "../../../conditioning/bundle/manifest.ts";
import { ModelsResponseSchema } from "../../../worker/http/schemas.ts";
import { describeModel } from "../../../worker/routes/models.ts";

const manifest = (report?: BundleManifest["quantizationReport"]): BundleManifest => ({
  formatVersion: 1,
  name: "m",
  source: { files: {} },
  architecture: { projectionDim: 8 },
  tokenizer: { files: [], padId: 0, maxLength: 77, normalization: "openai" },
  graphs: [
    {
      kind: "text",
      file: "text.onnx",
      bytes: 1,
      sha256: "x",
      quantization: "int8",
      inputs: ["input_ids"],
      outputs: ["last_hidden_state", "pooled", "text_embeds"],
    },
  ],
  ...(report ? { quantizationReport: report } : {}),
  createdAt: "",
  createdBy: "",
});

const serving = { presetModels: () => undefined, originConfigured: false };

describe("/v1/models accuracy", () => {
  it("shows the text graph's report and the guard's achieved numbers", () => {
    const m = describeModel(
      "m",
      manifest({
        int8: {
          prompts: ["a"],
          tokenCosineMin: 0.9991,
          tokenCosineMean: 0.9999,
          textEmbedsCosineMin: 0.9996,
          maxAbsError: 0.1,
          guard: {
            targets: { tokenCosineMin: 0.999, embedsCosineMin: 0.9995 },
            calibration: { prompts: 66, sha256: "s", builtin: 64, file: "calibration.jsonl" },
            achieved: {
              tokenCosineMin: 0.9993,
              tokenCosineMean: 0.9999,
              embedsCosineMin: 0.9997,
              embeds: "text_embeds",
            },
            met: true,
            smoothingAlpha: 0.5,
            plan: { "layer0.qkv": "int8-smooth", "layer0.fc2": "fp32" },
            sensitivity: {},
            fp32Linears: 1,
            evaluations: 3,
          },
        },
      }),
      "h",
      serving,
    );
    expect(m.accuracy).toEqual({
      quantization: "int8",
      token_cosine_min: 0.9991,
      token_cosine_mean: 0.9999,
      text_embeds_cosine_min: 0.9996,
      guard: {
        calibration_prompts: 66,
        token_cosine_min: 0.9993,
        embeds_cosine_min: 0.9997,
        targets_met: true,
        fp32_linears: 1,
        linears: 2,
      },
    });
    expect(ModelsResponseSchema.safeParse({ object: "list", data: [m] }).success).toBe(true);
  });

  it("has no accuracy field without a report", () => {
    expect(describeModel("m", manifest(), "h", serving)).not.toHaveProperty("accuracy");
  });
});
