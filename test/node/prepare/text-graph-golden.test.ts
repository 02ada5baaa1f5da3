import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../../helpers/fixtures.ts";
import {
  goldenFloat,
  goldenIds,
  goldens,
  ids64,
  maxAbsDiff,
  textSession,
} from "./golden-helpers.ts";

const TOL = 1e-4;

const cases: { model: string; styles: string[] }[] = [
  { model: "tiny-openai", styles: ["pad49407", "pad0"] },
  { model: "tiny-gelu", styles: ["pad0"] },
];

describe.each(cases)("fp32 text graph of $model in onnxruntime-web", ({ model, styles }) => {
  const g = goldens(model);
  const meta = JSON.parse(readFileSync(fixturePath("models", model, "golden.json"), "utf8")) as {
    prompts: { eot_index: number; pooled_index: number }[];
  };
  const n = meta.prompts.length;

  it.each(styles)("reproduces every golden tensor with %s ids (max abs <= 1e-4)", async (style) => {
    const session = await textSession(model);
    const ids = goldenIds(g, `input_ids_${style}`);
    const out = await session.run({ input_ids: session.tensor("int64", ids64(ids), [n, 77]) });
    const pairs: [string, string][] = [
      ["last_hidden_state", `last_hidden_state_${style}`],
      ["hidden_states_2", `penultimate_pre_ln_${style}`],
      ["hidden_states_ln_2", `penultimate_post_ln_${style}`],
      ["pooled", "pooled"],
      ["text_embeds", "text_embeds"],
    ];
    for (const [output, golden] of pairs) {
      const err = maxAbsDiff(out[output].data as Float32Array, goldenFloat(g, golden));
      expect(err, `${output} vs ${golden}`).toBeLessThanOrEqual(TOL);
    }
    // hidden_states_1 is the pre-final-LN last layer; hidden_states_ln_1 == last_hidden_state.
    expect(
      maxAbsDiff(
        out.hidden_states_ln_1.data as Float32Array,
        goldenFloat(g, `last_hidden_state_${style}`),
      ),
    ).toBeLessThanOrEqual(TOL);
    await session.release();
  });

  it("gives the same pooled/text_embeds when run only up to the EOT (<= 1e-5)", async () => {
    const session = await textSession(model);
    const ids = goldenIds(g, `input_ids_${styles[0]}`);
    const pooled = goldenFloat(g, "pooled");
    const embeds = goldenFloat(g, "text_embeds");
    const w = pooled.length / n;
    const e = embeds.length / n;
    const full = await session.run({ input_ids: session.tensor("int64", ids64(ids), [n, 77]) }, [
      "pooled",
      "text_embeds",
    ]);
    for (let i = 0; i < n; i++) {
      const seq = meta.prompts[i].eot_index + 1;
      const row = ids.subarray(i * 77, i * 77 + seq);
      const short = await session.run(
        { input_ids: session.tensor("int64", ids64(row), [1, seq]) },
        ["pooled", "text_embeds"],
      );
      expect(
        maxAbsDiff(
          short.pooled.data as Float32Array,
          (full.pooled.data as Float32Array).subarray(i * w, (i + 1) * w),
        ),
      ).toBeLessThanOrEqual(1e-5);
      expect(
        maxAbsDiff(
          short.text_embeds.data as Float32Array,
          (full.text_embeds.data as Float32Array).subarray(i * e, (i + 1) * e),
        ),
      ).toBeLessThanOrEqual(1e-5);
      expect(
        maxAbsDiff(short.text_embeds.data as Float32Array, embeds.subarray(i * e, (i + 1) * e)),
      ).toBeLessThanOrEqual(TOL);
    }
    await session.release();
  });
});

describe("attention_mask input", () => {
  it("all ones equals the plain graph; masking padded keys changes only rows that see them", async () => {
    const g = goldens("tiny-openai");
    const plainSession = await textSession("tiny-openai");
    const session = await textSession("tiny-openai", "fp32", 3, true);
    expect(session.inputNames).toEqual(["input_ids", "attention_mask"]);
    const ids = goldenIds(g, "input_ids_pad49407").subarray(0, 77);
    const feeds = { input_ids: session.tensor("int64", ids64(ids), [1, 77]) };
    const plain = await plainSession.run(feeds, ["last_hidden_state", "pooled"]);
    const ones = await session.run(
      {
        ...feeds,
        attention_mask: session.tensor("int64", new BigInt64Array(77).fill(1n), [1, 77]),
      },
      ["last_hidden_state", "pooled"],
    );
    expect(
      maxAbsDiff(
        plain.last_hidden_state.data as Float32Array,
        ones.last_hidden_state.data as Float32Array,
      ),
    ).toBe(0);
    const eot = Array.from(ids).indexOf(49407);
    const mask = new BigInt64Array(77).fill(0n).fill(1n, 0, eot + 1);
    const masked = await session.run(
      { ...feeds, attention_mask: session.tensor("int64", mask, [1, 77]) },
      ["last_hidden_state", "pooled"],
    );
    // The causal mask already hides padding from rows <= EOT: pooled is unchanged.
    expect(
      maxAbsDiff(plain.pooled.data as Float32Array, masked.pooled.data as Float32Array),
    ).toBeLessThanOrEqual(1e-6);
    const w = 64;
    const lastRow = (t: Float32Array) => t.subarray(76 * w, 77 * w);
    expect(
      maxAbsDiff(
        lastRow(plain.last_hidden_state.data as Float32Array),
        lastRow(masked.last_hidden_state.data as Float32Array),
      ),
    ).toBeGreaterThan(1e-3);
    await session.release();
  });
});
