import type { AdaptedSession } from "./adapt-session.ts";
import type { LoadedBundle } from "./load-bundle.ts";
import { createOrtWebSession, type OrtWebSessionOptions } from "./ort-web-session.ts";

/** Opens one graph of a bundle in onnxruntime-web (hashes checked by readGraph). */
export function openBundleGraphWeb(
  bundle: LoadedBundle,
  kind: "text" | "vision",
  options: Omit<OrtWebSessionOptions, "externalData" | "label"> = {},
): Promise<AdaptedSession> {
  const graph = bundle.readGraph(kind);
  return createOrtWebSession(graph.bytes, {
    ...options,
    label: `${bundle.dir}/${graph.entry.file}`,
    ...(graph.externalData ? { externalData: graph.externalData } : {}),
  });
}
