import { describe, expect, it } from "vitest";
import type { BundleManifest } from "../../../conditioning/bundle/manifest.ts";
import { createConditioner } from "../../../conditioning/conditioner/conditioner.ts";
import type { WorkLimits } from "../../../conditioning/conditioner/work-bounds.ts";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { tokenizer } from "./conditioner-setup.ts";
import { createFakeTextSession, tensorFactory } from "./fake-text-session.ts";
import { encodeRequest } from "./helpers.ts";

const WIDTH = 8;
const manifest = {
  architecture: { text: { hiddenSize: WIDTH, exportedHiddenStates: 2 } },
} as unknown as BundleManifest;

function conditioner(limits: WorkLimits, options: { maxChunks?: number } = {}) {
  const session = createFakeTextSession({ width: WIDTH });
  const c = createConditioner({
    preset: "sd15",
    encoders: [{ id: "t", session, tokenizer, manifest }],
    tensorFactory,
    limits: { ...limits, limitNames: { maxOutputBytes: "MAX_OUTPUT_BYTES" } },
    ...options,
  });
  return { session, c };
}

const breaks = (chunks: number) => Array.from({ length: chunks }, () => "cat").join(" BREAK ");

async function refusal(limits: WorkLimits, request: Record<string, unknown>) {
  const { session, c } = conditioner(limits, { maxChunks: 64 });
  const error = await encodeRequest(c, request as never).catch((e) => e);
  return { error, calls: session.calls.length };
}

describe("work bounds: checked after tokenising, before any session.run", () => {
  // 3 prompts x 4 BREAK chunks, chunk mode, 2 images: 3 x 2 rows + 3 x 2 negative rows.
  const request = {
    prompts: [breaks(4), breaks(4), breaks(2)],
    long_prompt: "chunk",
    weighting: "a1111",
    num_images_per_prompt: 2,
  };
  const values = (3 + 3) * 2 * 4 * 77 * WIDTH; // rows x positions x width
  // Sequences: the empty prompt, 4 + 4 + 2 prompt chunks, 3 negative chunks ("").
  const sequences = 1 + 10 + 3;

  it.each([
    {
      name: "num_images_per_prompt",
      limits: { maxImagesPerPrompt: 1 },
      message: /num_images_per_prompt is 2, more than the limit of 1/,
    },
    {
      name: "encoder work (sequences x 77)",
      limits: { maxEncodeTokens: sequences * 77 - 1 },
      message: new RegExp(
        `${sequences} sequences of 77 tokens.*${(sequences * 77).toLocaleString("en-US")}, more than the limit`,
      ),
    },
    {
      name: "output values",
      limits: { maxOutputValues: values - 1 },
      message: new RegExp(`output values ${values.toLocaleString("en-US")}, more than`),
    },
    {
      name: "output bytes (JSON at ~12 bytes a value)",
      limits: { maxOutputBytes: values * 12 - 1, outputBytesPerValue: 12 },
      message: new RegExp(
        `bytes ${(values * 12).toLocaleString("en-US")}, more than the limit of ${(values * 12 - 1).toLocaleString("en-US")} \\(MAX_OUTPUT_BYTES\\)`,
      ),
    },
  ])(
    "$name over its limit is too_large naming the number and the limit",
    async ({ limits, message }) => {
      const { error, calls } = await refusal(limits, request);
      expect(error).toBeInstanceOf(ClipEdgeError);
      expect(error.code).toBe("too_large");
      expect(error.message).toMatch(message);
      expect(calls).toBe(0);
    },
  );

  it("at exactly the limits the request is encoded, and the answer has that many values", async () => {
    const { c } = conditioner({
      maxImagesPerPrompt: 2,
      maxEncodeTokens: sequences * 77,
      maxOutputValues: values,
      maxOutputBytes: values * 4,
    });
    const r = await encodeRequest(c, request as never);
    const total = Object.values(r.tensors).reduce((a, t) => a + t.data.length, 0);
    expect(total).toBe(values);
  });

  it("compel masked copies count as encoder work", async () => {
    const prompt = "a cat- with a hat-"; // two down-weighted fragments: 2 masked copies
    const { error } = await refusal(
      { maxEncodeTokens: 4 * 77 - 1 },
      { prompt, weighting: "compel" },
    );
    // the empty prompt, the prompt, its 2 masked copies, the negative ""
    expect(error.message).toMatch(/5 sequences of 77 tokens.*Compel masked copies/);
    const ok = conditioner({ maxEncodeTokens: 5 * 77 });
    await expect(encodeRequest(ok.c, { prompt, weighting: "compel" })).resolves.toBeDefined();
    // The bound counts before de-duplication (the negative "" is the empty prompt, run once).
    const run = ok.session.calls.map((call) => call.dims[0]).reduce((a, b) => a + b, 0);
    expect(run).toBe(4);
  });

  it("chunks per prompt: the message names the limit's var", async () => {
    const session = createFakeTextSession({ width: WIDTH });
    const c = createConditioner({
      preset: "sd15",
      encoders: [{ id: "t", session, tokenizer, manifest }],
      tensorFactory,
      maxChunks: 3,
      limits: { limitNames: { maxChunks: "MAX_CHUNKS" } },
    });
    await expect(
      encodeRequest(c, { prompt: breaks(4), long_prompt: "chunk", weighting: "a1111" }),
    ).rejects.toThrow(/needs 4 chunks .* more than the limit of 3 \(MAX_CHUNKS\)/);
    expect(session.calls).toHaveLength(0);
  });
});
