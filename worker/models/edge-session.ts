/**
 * Creates a text graph's session(s) in this isolate's onnxruntime-web: one
 * session, or for a staged graph (`prepare --stages` / `--edge`) one per stage,
 * created largest first and chained in run order.
 *
 * Every file (stage graph, external data) is read from R2 into ONE load
 * buffer, sized for the largest stage and reused stage after stage, checked
 * against the manifest and handed to onnxruntime-web, which copies it into its
 * heap. So loading holds that one buffer next to the WASM heap, whatever the
 * number of stages, instead of one fresh ArrayBuffer per file that V8 frees
 * only at its next GC. The buffer is dropped when the last session exists.
 */
import { graphStages, stageBytes, stageLoadOrder } from "../../conditioning/bundle/graph-files.ts";
import type { GraphEntry, GraphStage } from "../../conditioning/bundle/manifest.ts";
import type { InferenceSessionLike } from "../../conditioning/encoder/session.ts";
import { createStagedSession } from "../../conditioning/encoder/staged-session.ts";
import type { OrtRuntime } from "../runtime/ort-runtime.ts";
import type { BundleStore } from "./bundle-store.ts";

export interface EdgeLoadReport {
  /** Bytes of the one load buffer (the largest stage: graph + external data). */
  bufferBytes: number;
  /** Files read into it. */
  files: number;
}

export async function createEdgeTextSession(
  store: BundleStore,
  runtime: OrtRuntime,
  model: string,
  graph: GraphEntry,
  report?: (r: EdgeLoadReport) => void,
): Promise<InferenceSessionLike> {
  const stages = graphStages(graph);
  const bufferBytes = Math.max(...stages.map(stageBytes));
  const load = { buffer: new ArrayBuffer(bufferBytes), files: 0 };
  const sessions: InferenceSessionLike[] = new Array(stages.length);
  for (const i of stageLoadOrder(stages)) {
    sessions[i] = await createStage(store, runtime, model, stages[i], load);
  }
  report?.({ bufferBytes, files: load.files });
  if (sessions.length === 1) return sessions[0];
  return createStagedSession({ stages: sessions, label: `${model}/${graph.file}` });
}

async function createStage(
  store: BundleStore,
  runtime: OrtRuntime,
  model: string,
  stage: GraphStage,
  load: { buffer: ArrayBuffer; files: number },
): Promise<InferenceSessionLike> {
  // Each read transfers the buffer (BYOB): views are made once every file is in.
  const files = [stage, ...(stage.externalData ?? [])];
  const offsets: number[] = [];
  let offset = 0;
  for (const f of files) {
    const read = await store.getFileInto(
      model,
      f.file,
      f,
      new Uint8Array(load.buffer, offset, f.bytes),
    );
    load.buffer = read.buffer;
    load.files++;
    offsets.push(offset);
    offset += f.bytes;
  }
  const view = (k: number) => new Uint8Array(load.buffer, offsets[k], files[k].bytes);
  const externalData = files.slice(1).map((f, k) => ({ path: f.file, data: view(k + 1) }));
  return runtime.createSession(view(0), `${model}/${stage.file}`, externalData);
}
