/**
 * A text encoder split into stages (consecutive layer groups, one graph and
 * one inference session each) presented as one session. Why: a runtime must
 * hold a graph's bytes in JS while it creates the session, so one big session
 * costs (graph bytes + its heap) at load; stages created one after another
 * cost (one stage's bytes + the heap so far). Outputs are exact: each stage
 * hands its last hidden state (`hidden_out`) to the next (`hidden_in`).
 *
 * Every stage takes the caller's feeds it names (input_ids, attention_mask,
 * token_embeds); requested outputs are collected from whichever stage
 * produces them, and stages after the last one needed are not run.
 */
import { ClipEdgeError } from "../errors.ts";
import type { InferenceSessionLike, TensorLike } from "./session.ts";

export const STAGE_INPUT = "hidden_in";
export const STAGE_OUTPUT = "hidden_out";

export interface StagedSession extends InferenceSessionLike {
  readonly stages: readonly InferenceSessionLike[];
  /** Releases every stage that can be released. */
  release(): Promise<void>;
}

export interface StagedSessionOptions {
  /** The stages in order; all but the first take `hidden_in`, all but the last output `hidden_out`. */
  stages: readonly InferenceSessionLike[];
  label?: string;
}

function checkChain(stages: readonly InferenceSessionLike[], label: string): void {
  if (stages.length === 0) {
    throw new ClipEdgeError("invalid_input", `${label}: a staged session needs at least one stage`);
  }
  stages.forEach((stage, i) => {
    const takesHidden = stage.inputNames.includes(STAGE_INPUT);
    const givesHidden = stage.outputNames.includes(STAGE_OUTPUT);
    if (takesHidden !== i > 0 || givesHidden !== i < stages.length - 1) {
      throw new ClipEdgeError(
        "malformed",
        `${label}: stage ${i} of ${stages.length} has inputs [${stage.inputNames.join(", ")}] and outputs [${stage.outputNames.join(", ")}]; stages after the first must take ${STAGE_INPUT}, stages before the last must output ${STAGE_OUTPUT}`,
      );
    }
  });
}

/** The inputs and outputs of a chain of stages: theirs, without the hand-over names. */
export function chainNames(
  stages: readonly { inputNames: readonly string[]; outputNames: readonly string[] }[],
): { inputNames: string[]; outputNames: string[] } {
  const unique = (names: readonly string[], handOver: string) => [
    ...new Set(names.filter((n) => n !== handOver)),
  ];
  return {
    inputNames: unique(
      stages.flatMap((s) => s.inputNames),
      STAGE_INPUT,
    ),
    outputNames: unique(
      stages.flatMap((s) => s.outputNames),
      STAGE_OUTPUT,
    ),
  };
}

export function createStagedSession(options: StagedSessionOptions): StagedSession {
  const { stages } = options;
  const label = options.label ?? "staged text encoder";
  checkChain(stages, label);
  const { inputNames, outputNames } = chainNames(stages);

  async function run(
    feeds: Record<string, TensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>> {
    const wanted = fetches ?? outputNames;
    for (const name of wanted) {
      if (!outputNames.includes(name)) {
        throw new ClipEdgeError(
          "invalid_input",
          `${label}: output ${name} is not produced by any stage (outputs: ${outputNames.join(", ")})`,
        );
      }
    }
    let lastNeeded = 0;
    stages.forEach((s, i) => {
      if (wanted.some((n) => s.outputNames.includes(n))) lastNeeded = i;
    });
    const result: Record<string, TensorLike> = {};
    let hidden: TensorLike | undefined;
    for (let i = 0; i <= lastNeeded; i++) {
      const stage = stages[i];
      const stageFeeds: Record<string, TensorLike> = {};
      for (const name of stage.inputNames) {
        if (name === STAGE_INPUT) stageFeeds[name] = hidden!;
        else if (feeds[name]) stageFeeds[name] = feeds[name];
      }
      const stageFetches = wanted.filter((n) => stage.outputNames.includes(n));
      if (i < lastNeeded) stageFetches.push(STAGE_OUTPUT);
      const out = await stage.run(stageFeeds, stageFetches);
      for (const name of stageFetches) {
        if (name === STAGE_OUTPUT) hidden = out[name];
        else result[name] = out[name];
      }
    }
    return result;
  }

  return {
    stages,
    inputNames,
    outputNames,
    run,
    async release() {
      for (const stage of stages) {
        await (stage as { release?: () => Promise<void> }).release?.();
      }
    },
  };
}
