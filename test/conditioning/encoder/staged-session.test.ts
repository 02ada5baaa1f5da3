import { describe, expect, it } from "vitest";
import type { InferenceSessionLike, TensorLike } from "../../../conditioning/encoder/session.ts";
import { createStagedSession } from "../../../conditioning/encoder/staged-session.ts";
import { isClipEdgeError } from "../../../conditioning/errors.ts";

/** A stage that adds `add` to hidden_in (or to input_ids for the first stage) and records its calls. */
function fakeStage(inputs: string[], outputs: string[], add: number, calls: string[][]) {
  const stage: InferenceSessionLike = {
    inputNames: inputs,
    outputNames: outputs,
    async run(feeds, fetches) {
      calls.push([...(fetches ?? [])]);
      const src = (feeds.hidden_in ?? feeds.input_ids) as TensorLike;
      const values = Float32Array.from(src.data as ArrayLike<number>, (v) => Number(v) + add);
      const out: Record<string, TensorLike> = {};
      for (const name of fetches ?? outputs) {
        out[name] = { type: "float32", data: values, dims: src.dims };
      }
      return out;
    },
  };
  return stage;
}

describe("createStagedSession", () => {
  const chain = (calls: string[][]) => [
    fakeStage(["input_ids"], ["hidden_out", "hidden_states_3"], 1, calls),
    fakeStage(["input_ids", "hidden_in"], ["hidden_out", "hidden_states_2"], 10, calls),
    fakeStage(["input_ids", "hidden_in"], ["last_hidden_state", "pooled"], 100, calls),
  ];
  const ids: TensorLike = { type: "int64", data: new BigInt64Array([1n, 2n]), dims: [1, 2] };

  it("exposes the chain's inputs and outputs without the hand-over names", () => {
    const s = createStagedSession({ stages: chain([]) });
    expect(s.inputNames).toEqual(["input_ids"]);
    expect(s.outputNames).toEqual([
      "hidden_states_3",
      "hidden_states_2",
      "last_hidden_state",
      "pooled",
    ]);
  });

  it("hands each stage's hidden_out to the next stage and collects the outputs asked for", async () => {
    const calls: string[][] = [];
    const s = createStagedSession({ stages: chain(calls) });
    const out = await s.run({ input_ids: ids }, ["pooled", "hidden_states_3"]);
    expect([...(out.pooled.data as Float32Array)]).toEqual([112, 113]);
    expect([...(out.hidden_states_3.data as Float32Array)]).toEqual([2, 3]);
    expect(calls).toEqual([["hidden_states_3", "hidden_out"], ["hidden_out"], ["pooled"]]);
  });

  it("stops after the last stage that produces a requested output", async () => {
    const calls: string[][] = [];
    const s = createStagedSession({ stages: chain(calls) });
    const out = await s.run({ input_ids: ids }, ["hidden_states_2"]);
    expect([...(out.hidden_states_2.data as Float32Array)]).toEqual([12, 13]);
    expect(calls.length).toBe(2);
  });

  it("names unknown outputs and broken chains", async () => {
    const s = createStagedSession({ stages: chain([]) });
    const err = await s.run({ input_ids: ids }, ["text_embeds"]).catch((e) => e);
    expect(isClipEdgeError(err) && err.code).toBe("invalid_input");
    expect((err as Error).message).toContain("text_embeds");
    const broken = () =>
      createStagedSession({ stages: [chain([])[0], chain([])[0]], label: "m/text" });
    expect(broken).toThrow(/m\/text: stage 1 of 2/);
    expect(() => createStagedSession({ stages: [] })).toThrow(/at least one stage/);
  });
});
