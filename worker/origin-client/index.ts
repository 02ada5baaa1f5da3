export { type BreakerState, createCircuitBreaker } from "./circuit-breaker.ts";
export { type FetchedImage, type FetchImageOptions, fetchImage } from "./fetch-image.ts";
export {
  createOriginClient,
  type FetchLike,
  type OriginClient,
  type OriginClientOptions,
  type OriginImage,
} from "./origin-client.ts";
export { createRemoteTextSession } from "./remote-text-session.ts";
