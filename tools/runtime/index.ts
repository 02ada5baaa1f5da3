export { type AdaptedSession, adaptOrtSession } from "./adapt-session.ts";
export { openBundleGraphWeb } from "./bundle-session.ts";
export { type LoadedBundle, type LoadedGraph, loadBundle } from "./load-bundle.ts";
export { createOrtNodeSession, type OrtNodeSessionOptions } from "./ort-node-session.ts";
export { createOrtWebSession, type OrtWebSessionOptions } from "./ort-web-session.ts";
export {
  createTokenEmbeddingTable,
  type TokenEmbeddingTable,
  withTokenEmbeddingTable,
} from "./token-embedding-table.ts";
