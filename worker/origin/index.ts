export { type BreakerState, createCircuitBreaker } from "./circuit-breaker.ts";
export { type FetchedImage, type FetchImageOptions, fetchImage } from "./fetch-image.ts";
export {
  createOriginClient,
  type FetchLike,
  type ImageEmbeddingsResponse,
  type OriginClient,
  type OriginClientOptions,
  type OriginImage,
  type TextEmbeddingsResponse,
} from "./origin-client.ts";
