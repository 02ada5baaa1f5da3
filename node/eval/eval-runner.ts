/**
 * Runs the items a state file has not finished through a scorer, chunk by chunk, recording
 * each outcome as it lands. An abort signal (Ctrl-C) stops between chunks; what finished is
 * kept, and the next run starts where this one stopped.
 */
import type { EvalItem } from "./eval-inputs.ts";
import type { EvalState } from "./eval-state.ts";
import type { Progress } from "./progress.ts";

/** The cosine of an item's image and prompt, or why it could not be scored. */
export type EvalOutcome = { id: string; cosine: number } | { id: string; error: string };

export interface EvalScorer {
  /** Items scored together (one request, one batch). */
  readonly chunkSize: number;
  /** Outcomes of a chunk, in any order; an outcome per item. Throws when the run must stop. */
  score(items: readonly EvalItem[]): Promise<EvalOutcome[]>;
  /**
   * Collects work submitted by an earlier run that was not recorded (batches in flight):
   * called once before scoring, with the state.
   */
  recover?(state: EvalState, items: ReadonlyMap<string, EvalItem>): Promise<EvalOutcome[]>;
  release?(): Promise<void>;
}

export interface RunEvalOptions {
  items: readonly EvalItem[];
  state: EvalState;
  scorer: EvalScorer;
  /** Called with the number already finished; returns the progress display. */
  progress?: (resumed: number) => Progress;
  signal?: AbortSignal;
}

export interface RunEvalResult {
  /** Finished before this run. */
  resumed: number;
  /** Scored by this run. */
  computed: number;
  /** Stopped by the signal before the end. */
  interrupted: boolean;
}

export async function runEval(options: RunEvalOptions): Promise<RunEvalResult> {
  const { items, state, scorer, signal } = options;
  const byId = new Map(items.map((item) => [item.id, item]));
  const record = (outcome: EvalOutcome) => {
    const item = byId.get(outcome.id);
    if (!item || state.get(item.id, item.prompt)) return false;
    state.record(
      "error" in outcome
        ? { type: "error", id: item.id, prompt: item.prompt, error: outcome.error }
        : { type: "result", id: item.id, prompt: item.prompt, cosine: outcome.cosine },
    );
    return true;
  };
  const resumedBefore = items.filter((item) => state.get(item.id, item.prompt)).length;
  let computed = 0;
  if (scorer.recover) {
    for (const outcome of await scorer.recover(state, byId)) if (record(outcome)) computed++;
  }
  const pending = items.filter((item) => !state.get(item.id, item.prompt));
  const progress = options.progress?.(items.length - pending.length);
  let interrupted = false;
  for (let start = 0; start < pending.length; start += scorer.chunkSize) {
    if (signal?.aborted) {
      interrupted = true;
      break;
    }
    const chunk = pending.slice(start, start + scorer.chunkSize);
    const outcomes = await scorer.score(chunk);
    let n = 0;
    for (const outcome of outcomes) if (record(outcome)) n++;
    computed += n;
    progress?.tick(n);
  }
  progress?.finish();
  return { resumed: resumedBefore, computed, interrupted };
}
