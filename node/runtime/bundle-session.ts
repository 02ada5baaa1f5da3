import { graphStages, stageLoadOrder } from "../../conditioning/bundle/graph-files.ts";
import type { BundleFile, GraphEntry } from "../../conditioning/bundle/manifest.ts";
import { createStagedSession } from "../../conditioning/encoder/staged-session.ts";
import type { AdaptedSession } from "./adapt-session.ts";
import type { LoadedBundle } from "./load-bundle.ts";
import { createOrtWebSession, type OrtWebSessionOptions } from "./ort-web-session.ts";
import { createTokenEmbeddingTable, withTokenEmbeddingTable } from "./token-embedding-table.ts";

export type WebSessionOptions = Omit<OrtWebSessionOptions, "externalData" | "label">;

/**
 * Chains the sessions of a staged graph into one AdaptedSession (the stages'
 * tensor factory, release of every stage). One session is returned as is.
 */
export function chainStages(sessions: AdaptedSession[], label: string): AdaptedSession {
  if (sessions.length === 1) return sessions[0];
  const staged = createStagedSession({ stages: sessions, label });
  return {
    inputNames: staged.inputNames,
    outputNames: staged.outputNames,
    tensor: sessions[0].tensor,
    run: staged.run,
    release: staged.release,
  };
}

/**
 * Opens a graph entry in onnxruntime-web: every stage in turn, largest first
 * (each stage's bytes are read, handed over and dropped before the next is
 * read), chained in run order;
 * a graph with an external token table gets `token_embeds` fed from it.
 */
export async function openGraphEntryWeb(
  entry: GraphEntry,
  read: (file: BundleFile) => Uint8Array,
  where: string,
  options: WebSessionOptions = {},
): Promise<AdaptedSession> {
  const stages = graphStages(entry);
  const sessions: AdaptedSession[] = new Array(stages.length);
  for (const i of stageLoadOrder(stages)) {
    const stage = stages[i];
    const externalData = stage.externalData?.map((e) => ({ path: e.file, data: read(e) }));
    sessions[i] = await createOrtWebSession(read(stage), {
      ...options,
      label: `${where}/${stage.file}`,
      ...(externalData ? { externalData } : {}),
    });
  }
  const session = chainStages(sessions, `${where}/${entry.file}`);
  if (entry.kind !== "text" || !entry.tokenEmbeddingTable) return session;
  const table = createTokenEmbeddingTable(read(entry.tokenEmbeddingTable));
  return withTokenEmbeddingTable(session, table);
}

/** Opens one graph of a bundle in onnxruntime-web (sizes and hashes checked on read). */
export async function openBundleGraphWeb(
  bundle: LoadedBundle,
  kind: "text" | "vision",
  options: WebSessionOptions = {},
): Promise<AdaptedSession> {
  const entry = bundle.graph(kind);
  if (!entry) bundle.readGraph(kind); // throws not_found naming the bundle
  return openGraphEntryWeb(entry!, (f) => bundle.readBundleFile(f), bundle.dir, options);
}
