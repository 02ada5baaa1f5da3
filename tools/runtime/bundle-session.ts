import type { AdaptedSession } from "./adapt-session.ts";
import type { LoadedBundle } from "./load-bundle.ts";
import { createOrtWebSession, type OrtWebSessionOptions } from "./ort-web-session.ts";
import { createTokenEmbeddingTable, withTokenEmbeddingTable } from "./token-embedding-table.ts";

/** Opens one graph of a bundle in onnxruntime-web (hashes checked by readGraph). */
export async function openBundleGraphWeb(
  bundle: LoadedBundle,
  kind: "text" | "vision",
  options: Omit<OrtWebSessionOptions, "externalData" | "label"> = {},
): Promise<AdaptedSession> {
  const graph = bundle.readGraph(kind);
  const session = await createOrtWebSession(graph.bytes, {
    ...options,
    label: `${bundle.dir}/${graph.entry.file}`,
    ...(graph.externalData ? { externalData: graph.externalData } : {}),
  });
  // A graph with an external token table takes token_embeds: feed it from the table.
  const table = kind === "text" ? bundle.readTokenEmbeddingTable() : undefined;
  return table ? withTokenEmbeddingTable(session, createTokenEmbeddingTable(table)) : session;
}
