import { describe, expect, it } from "vitest";
import { normaliseRequest } from "../../../conditioning/conditioner/request.ts";
import {
  ConditioningRequestSchema,
  parseConditioningRequest,
  REQUEST_CAPS,
} from "../../../conditioning/conditioner/request-schema.ts";

/** The message of the ClipEdgeError a request is refused with. */
function refusal(request: unknown): string {
  try {
    parseConditioningRequest(request);
  } catch (error) {
    expect(error).toMatchObject({ code: "invalid_request" });
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(request)}`);
}

describe("conditioning request schema", () => {
  it("returns the request as given (no defaults added); normaliseRequest fills them in", () => {
    const request = { prompt: "a cat", weighting: "a1111" as const };
    expect(parseConditioningRequest(request)).toEqual(request);
    expect(normaliseRequest(parseConditioningRequest(request))).toMatchObject({
      prompts: ["a cat"],
      negatives: [null],
      negativeGiven: false,
      weighting: "a1111",
      syntax: "a1111",
      longPrompt: "truncate",
      numImagesPerPrompt: 1,
      clipSkip: 0,
      guidance: true,
      dtype: "float32",
      composition: null,
      steps: 20,
    });
  });

  it("spreads string negatives and prompt_2 over the prompts, and resolves a1111_clip_skip", () => {
    const req = normaliseRequest(
      parseConditioningRequest({
        prompts: ["a", "b"],
        negative_prompt: "x",
        prompt_2: ["c", "d"],
        a1111_clip_skip: 2,
      }),
    );
    expect(req).toMatchObject({
      negatives: ["x", "x"],
      negativeGiven: true,
      prompts2: ["c", "d"],
      negatives2: null,
      clipSkip: 1,
    });
  });

  it("caps num_images_per_prompt at 16, comma_padding_backtrack at 74 and steps at 1000", () => {
    expect(REQUEST_CAPS.numImagesPerPrompt).toBe(16);
    expect(parseConditioningRequest({ prompt: "a", num_images_per_prompt: 16 })).toBeTruthy();
    expect(refusal({ prompt: "a", num_images_per_prompt: 17 })).toBe(
      "invalid request: num_images_per_prompt: must be an integer in 1..16",
    );
    expect(refusal({ prompt: "a", num_images_per_prompt: 0 })).toMatch(/num_images_per_prompt/);
    expect(refusal({ prompt: "a", num_images_per_prompt: 1.5 })).toMatch(/1\.\.16/);
    expect(refusal({ prompt: "a", comma_padding_backtrack: 75 })).toMatch(
      /comma_padding_backtrack: must be an integer in 0\.\.74/,
    );
    expect(refusal({ prompt: "a", syntax: "a1111", composition: "a1111", steps: 1001 })).toMatch(
      /steps: must be an integer in 1\.\.1000/,
    );
    expect(refusal({ prompt: "a", clip_skip: -1 })).toMatch(/clip_skip: must be an integer >= 0/);
    expect(refusal({ prompt: "a", a1111_clip_skip: 0 })).toMatch(/a1111_clip_skip/);
  });

  it("names the field of each broken rule between fields", () => {
    expect(refusal({ prompt: "a", prompts: ["b"] })).toMatch(
      /prompt: give exactly one of prompt .* not both/,
    );
    expect(refusal({})).toMatch(/prompt: give exactly one of prompt/);
    expect(refusal({ prompts: [] })).toMatch(/prompts must be a non-empty array/);
    expect(refusal({ prompts: ["a"], negative_prompt: ["x", "y"] })).toMatch(
      /negative_prompt has 2 entries for 1 prompts/,
    );
    expect(refusal({ prompts: ["a", "b"], negative_prompt_2: ["c"] })).toMatch(
      /negative_prompt_2 must be a string or an array of 2 strings/,
    );
    expect(refusal({ prompt: "a", clip_skip: 1, a1111_clip_skip: 3 })).toMatch(/disagree/);
    expect(refusal({ prompt: "a", weighting: "comfy", composition: "a1111" })).toMatch(
      /composition: .*needs the A1111 syntax.*got comfy/,
    );
    expect(refusal({ prompt: "a", steps: 10 })).toMatch(/steps: steps applies to composition/);
    expect(refusal({ prompt: "a", weighting: "strong" })).toMatch(/weighting/);
    expect(refusal({ prompt: 5 })).toMatch(/prompt/);
  });

  it("lists every problem at once", () => {
    const result = ConditioningRequestSchema.safeParse({ prompt: "a", dtype: "int8", steps: 0 });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toEqual(["dtype", "steps"]);
  });
});
