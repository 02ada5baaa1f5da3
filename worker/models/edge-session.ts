/**
 * Creates a text graph's session(s) in this isolate's onnxruntime-web: one
 * session, or for a staged graph (`prepare --stages` / `--edge`) one per stage,
 * created largest first and chained in run order. Each stage's bytes (graph +
 * external data, read from R2 and checked against the manifest) are only
 * referenced while its session is created, so the isolate holds one stage's
 * bytes at a time next to the WASM heap instead of the whole model.
 */
import { graphStages, stageLoadOrder } from "../../conditioning/bundle/graph-files.ts";
import type { GraphEntry } from "../../conditioning/bundle/manifest.ts";
import type { InferenceSessionLike } from "../../conditioning/encoder/session.ts";
import { createStagedSession } from "../../conditioning/encoder/staged-session.ts";
import type { OrtRuntime } from "../runtime/ort-runtime.ts";
import type { BundleStore } from "./bundle-store.ts";

export async function createEdgeTextSession(
  store: BundleStore,
  runtime: OrtRuntime,
  model: string,
  graph: GraphEntry,
): Promise<InferenceSessionLike> {
  const stages = graphStages(graph);
  const sessions: InferenceSessionLike[] = new Array(stages.length);
  for (const i of stageLoadOrder(stages)) {
    sessions[i] = await createStage(store, runtime, model, stages[i]);
  }
  if (sessions.length === 1) return sessions[0];
  return createStagedSession({ stages: sessions, label: `${model}/${graph.file}` });
}

/** Kept in its own frame so nothing outlives the call but the session. */
async function createStage(
  store: BundleStore,
  runtime: OrtRuntime,
  model: string,
  stage: ReturnType<typeof graphStages>[number],
): Promise<InferenceSessionLike> {
  const bytes = await store.getFile(model, stage.file, stage);
  const externalData = [];
  for (const extra of stage.externalData ?? []) {
    externalData.push({ path: extra.file, data: await store.getFile(model, extra.file, extra) });
  }
  return runtime.createSession(bytes, `${model}/${stage.file}`, externalData);
}
