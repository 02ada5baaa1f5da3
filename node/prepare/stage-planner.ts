/**
 * `prepare --edge --budget-mb N`: how many encoder layers each stage of a
 * staged text graph gets, so that loading it stays within a memory budget
 * with the fewest stages (fewer, larger stages run faster; issue #14).
 *
 * A runtime creates the stage sessions one at a time, largest first
 * (conditioning/bundle/graph-files.ts `stageLoadOrder`), and the WASM heap
 * only grows: after creating stages of `c` bytes in all it is about
 * `runtimeBytes + heapPerByte * c` (both measured by prepare's memory
 * profile). Next to the heap the loader holds the bytes of the stage it is
 * creating. Two loaders:
 *
 * - `"per-stage"` (node/runtime/bundle-session.ts): each stage's bytes are
 *   read, handed over and dropped before the next; the peak is the max over
 *   the creation order of `heap after stage i + bytes(stage i)`.
 * - `"largest"` (the worker, worker/models/edge-session.ts): ONE load buffer
 *   sized for the largest stage is held until the last session exists; the
 *   peak is `heap after the last stage + bytes(largest stage)`.
 *
 * The head stage (final LayerNorm, pooling, projection) is always its own,
 * last in the creation order.
 */

export type LoadBuffer = "per-stage" | "largest";

export interface StagePlanInput {
  /** Bytes of each encoder layer's stage (graph + external data), in run order. */
  layerBytes: readonly number[];
  /** Bytes of the head stage. */
  headBytes: number;
  /** WASM heap of the runtime alone. */
  runtimeBytes: number;
  /** WASM heap growth per byte of stage handed to the runtime. */
  heapPerByte: number;
  budgetBytes: number;
  /** Default "largest" (the worker's loader). */
  loadBuffer?: LoadBuffer;
}

export interface StagePlan {
  /** Encoder layers per stage in run order (loaders create them largest first); the head comes after. */
  layers: number[];
  /** False when even one layer per stage exceeds the budget: `layers` is then per-layer (all ones). */
  fits: boolean;
  /** The estimated load peak (WASM heap + bytes held in JS) of `layers`. */
  estimatedPeakBytes: number;
}

function groupBytes(layerBytes: readonly number[], layers: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  for (const n of layers) {
    let b = 0;
    for (let k = 0; k < n; k++) b += layerBytes[i + k];
    out.push(b);
    i += n;
  }
  return out;
}

/** The estimated load peak of stages of `layers` layers each (run order) plus the head. */
export function estimateLoadPeak(input: StagePlanInput, layers: readonly number[]): number {
  return estimateStagesPeak(
    [...groupBytes(input.layerBytes, layers), input.headBytes],
    input.runtimeBytes,
    input.heapPerByte,
    input.loadBuffer,
  );
}

/** The estimated load peak of stages of these bytes (graph + external data each, any order). */
export function estimateStagesPeak(
  stageBytes: readonly number[],
  runtimeBytes: number,
  heapPerByte: number,
  loadBuffer: LoadBuffer = "largest",
): number {
  // Largest first, ties in run order (stageLoadOrder).
  const order = [...stageBytes].sort((x, y) => y - x);
  let created = 0;
  let peak = 0;
  for (const b of order) {
    created += b;
    const heap = runtimeBytes + heapPerByte * created;
    peak = Math.max(peak, heap + (loadBuffer === "largest" ? order[0] : b));
  }
  return peak;
}

/** Layers split into `groups` near-equal groups, the larger groups first. */
function nearEqual(layers: number, groups: number): number[] {
  const base = Math.floor(layers / groups);
  const extra = layers % groups;
  return Array.from({ length: groups }, (_, g) => base + (g < extra ? 1 : 0));
}

/** Greedy: each stage (in creation order) takes as many layers as still fit. */
function greedy(input: StagePlanInput): number[] | undefined {
  const { layerBytes, headBytes, runtimeBytes, heapPerByte, budgetBytes } = input;
  const total = layerBytes.reduce((a, b) => a + b, 0) + headBytes;
  const largestBuffer = (input.loadBuffer ?? "largest") === "largest";
  const layers: number[] = [];
  let created = 0;
  let i = 0;
  while (i < layerBytes.length) {
    let k = 0;
    let b = 0;
    while (i + k < layerBytes.length) {
      const next = b + layerBytes[i + k];
      // "largest": the buffer of this (largest so far) stage is held until the heap is full.
      const peak = largestBuffer
        ? runtimeBytes + heapPerByte * total + next
        : runtimeBytes + heapPerByte * (created + next) + next;
      if (peak > budgetBytes) break;
      b = next;
      k++;
    }
    if (k === 0) return undefined;
    layers.push(k);
    created += b;
    i += k;
  }
  return layers;
}

/**
 * The fewest stages whose estimated load peak fits `budgetBytes` (greedy,
 * which is optimal here: the room left for a stage only shrinks as stages
 * are created); with the "largest" loader the groups are then evened out
 * where that still fits (a lower peak at the same count). When no split fits,
 * per-layer with `fits: false`.
 */
export function planStages(input: StagePlanInput): StagePlan {
  const L = input.layerBytes.length;
  if (L === 0) throw new RangeError("planStages: no layers");
  const found = greedy(input);
  const perLayer = Array.from({ length: L }, () => 1);
  if (!found || estimateLoadPeak(input, found) > input.budgetBytes) {
    return { layers: perLayer, fits: false, estimatedPeakBytes: estimateLoadPeak(input, perLayer) };
  }
  // The same count, evened out (larger groups first or last: the first stage also
  // holds the embeddings): kept where the estimated peak is no higher.
  let layers = found;
  const even = nearEqual(L, found.length);
  for (const candidate of [even, [...even].reverse()]) {
    if (estimateLoadPeak(input, candidate) <= estimateLoadPeak(input, layers)) layers = candidate;
  }
  return { layers, fits: true, estimatedPeakBytes: estimateLoadPeak(input, layers) };
}
