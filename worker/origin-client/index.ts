export { type BreakerState, createCircuitBreaker } from "./circuit-breaker.ts";
export { type FetchedImage, type FetchImageOptions, fetchImage } from "./fetch-image.ts";
export {
  createOriginClient,
  type FetchLike,
  type ImageEmbeddingsResponse,
  type OriginClient,
  type OriginClientOptions,
  type OriginImage,
  type OriginInfo,
  type TextEmbeddingsResponse,
  type WireTensor,
} from "./origin-client.ts";
export { createRemoteTextSession } from "./remote-text-session.ts";
