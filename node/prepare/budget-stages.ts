/**
 * `prepare --edge --budget-mb N`: the text graph is first emitted per layer and
 * its memory profile measured; stage-planner.ts then picks the fewest stages
 * whose estimated load peak fits the budget, the graph is re-emitted with
 * them (from the same guarded weights) and measured again. When the
 * re-measured estimate exceeds the budget, the bundle goes back to per-layer.
 */
import { graphLoadBytes, graphStages, stageBytes } from "../../conditioning/bundle/graph-files.ts";
import type {
  BundleManifest,
  GraphEntry,
  GraphMemoryProfile,
} from "../../conditioning/bundle/manifest.ts";
import { estimateStagesPeak, planStages, type StagePlan } from "./stage-planner.ts";

/** What `--budget-mb` chose (PrepareResult.stagePlan, printed by the CLI). */
export interface BudgetStagePlan extends StagePlan {
  budgetBytes: number;
  /** Measured heap growth per byte of stage (per-layer profile). */
  heapPerByte: number;
  /** The estimated peak from the profile of the bundle as written (re-measured after a re-emission). */
  measuredPeakBytes: number;
  /** Why the bundle is per-layer although a split was planned, or the plan did not fit. */
  note?: string;
}

export interface FitStagesArgs {
  budgetBytes: number;
  /** The per-layer bundle's manifest, with the text graph's memory profile. */
  manifest: BundleManifest;
  /** Re-emits the text graph: layers per stage, or per-layer. */
  emit: (spec: readonly number[] | "per-layer") => Promise<void>;
  /** Writes the manifest and measures the memory profile (or records the one given). */
  finish: (memory?: GraphMemoryProfile) => Promise<BundleManifest>;
  /** The quantisation report is still to be made (the per-layer emission skipped it). */
  reportPending: boolean;
  log: (line: string) => void;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function textEntry(manifest: BundleManifest): GraphEntry & { memory: GraphMemoryProfile } {
  const entry = manifest.graphs.find((g) => g.kind === "text");
  if (!entry?.memory) throw new Error("fitStagesToBudget: the text graph has no memory profile");
  return entry as GraphEntry & { memory: GraphMemoryProfile };
}

/** The estimated load peak (the worker's loader) of a written graph from its own profile. */
export function measuredLoadPeak(entry: GraphEntry & { memory: GraphMemoryProfile }): number {
  const m = entry.memory;
  return estimateStagesPeak(
    graphStages(entry).map(stageBytes),
    m.runtimeBytes,
    m.loadBytes / graphLoadBytes(entry),
  );
}

export async function fitStagesToBudget(
  args: FitStagesArgs,
): Promise<{ manifest: BundleManifest; plan: BudgetStagePlan }> {
  const { budgetBytes, log } = args;
  const perLayer = textEntry(args.manifest);
  const stages = graphStages(perLayer).map(stageBytes);
  const profile = perLayer.memory;
  const heapPerByte = profile.loadBytes / graphLoadBytes(perLayer);
  const planned = planStages({
    layerBytes: stages.slice(0, -1),
    headBytes: stages[stages.length - 1],
    runtimeBytes: profile.runtimeBytes,
    heapPerByte,
    budgetBytes,
    loadBuffer: "largest",
  });
  const perLayerPeak = measuredLoadPeak(perLayer);
  const base = { ...planned, budgetBytes, heapPerByte };
  const keepPerLayer = async (note?: string) => {
    if (note) log(`stage plan: ${note}`);
    // Same files as measured: re-emitted only for the quantisation report.
    if (args.reportPending) await args.emit("per-layer");
    const manifest = args.reportPending ? await args.finish(profile) : args.manifest;
    return {
      manifest,
      plan: {
        ...base,
        layers: stages.slice(0, -1).map(() => 1),
        measuredPeakBytes: perLayerPeak,
        ...(note ? { note } : {}),
      },
    };
  };
  if (!planned.fits) {
    return keepPerLayer(
      `even one layer per stage exceeds the ${mb(budgetBytes)} MB budget (estimated load peak ${mb(planned.estimatedPeakBytes)} MB): per-layer`,
    );
  }
  if (planned.layers.length === stages.length - 1) return keepPerLayer();
  log(
    `stage plan for ${mb(budgetBytes)} MB: layers per stage ${planned.layers.join(",")} + head (estimated load peak ${mb(planned.estimatedPeakBytes)} MB; per-layer ${mb(perLayerPeak)} MB)`,
  );
  await args.emit(planned.layers);
  const manifest = await args.finish();
  const measuredPeakBytes = measuredLoadPeak(textEntry(manifest));
  if (measuredPeakBytes > budgetBytes) {
    await args.emit("per-layer");
    const back = await args.finish(profile);
    const note = `the planned split measured an estimated load peak of ${mb(measuredPeakBytes)} MB > the ${mb(budgetBytes)} MB budget: per-layer`;
    log(`stage plan: ${note}`);
    return {
      manifest: back,
      plan: {
        ...base,
        layers: stages.slice(0, -1).map(() => 1),
        measuredPeakBytes: perLayerPeak,
        note,
      },
    };
  }
  return { manifest, plan: { ...base, measuredPeakBytes } };
}
