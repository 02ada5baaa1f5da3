/**
 * Request limits and tuning knobs: the defaults live here and only here. A deployment
 * overrides one by setting its var (`MAX_BODY_BYTES = "131072"` in wrangler.toml `[vars]`,
 * or in the dashboard); wrangler.toml lists none of them by default. A malformed var is a
 * configuration error, reported by name.
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface WorkerLimits {
  /** Largest request body of the JSON text routes, in bytes (413 above). */
  maxBodyBytes: number;
  /** Longest single prompt, in characters (413 above). */
  maxPromptChars: number;
  /** Most prompts (or embedding inputs) in one request (413 above). */
  maxPrompts: number;
  /** Most 77-token chunks per prompt with `long_prompt: "chunk"` (413 above). */
  maxChunks: number;
  /** composition "a1111": most AND x schedule conditionings per request (413 above). */
  maxConditionings: number;
  /** Most `num_images_per_prompt` (the request schema caps it at 16; 413 above). */
  maxImagesPerPrompt: number;
  /**
   * Most token positions one request runs through the text graphs: sequences (chunks of
   * every prompt and negative, Compel's masked copies, the empty prompt) x 77, summed over
   * encoders (413 above). Bounds the CPU time of a request.
   */
  maxEncodeTokens: number;
  /** Most float values in one answer's tensors (413 above). Bounds the tensors in memory. */
  maxOutputValues: number;
  /**
   * Largest answer in bytes, estimated from the values and the format before encoding
   * (JSON ~21 bytes a float32, files 4; 413 above). Bounds the serialised body in memory.
   */
  maxOutputBytes: number;
  /**
   * How long a run waits for more rows when the session is idle, in milliseconds. 0 (default):
   * an idle session runs at once, and rows that arrive during a run go into the next batch
   * together. A window of 4 ms cost every uncached request ~8-10 ms in workerd (its polls
   * wake at 1, 3 and 7 ms; docs/performance.md, issue #14).
   */
  batchWindowMs: number;
  /**
   * Bytes of encoded rows (outputs of one prompt row) kept per text session, so a repeated
   * row (a diffusion request's negative prompt) is encoded once (0 disables). JS memory,
   * beside the WASM heap: 2 MB holds eight 77-token CLIP-L rows.
   */
  rowCacheBytes: number;
  /** Most sequences in one `session.run`. */
  maxBatchSize: number;
  /** `Cache-Control: max-age` of cacheable responses, in seconds (0 disables the cache). */
  cacheTtlSeconds: number;
  /**
   * The isolate's WASM heap budget, in MB (1,000,000 bytes). The heap is capped there;
   * model loads and micro-batches are sized from each graph's measured memory cost so
   * they fit (docs/worker.md "Memory model"). A model that cannot fit beside the loaded
   * ones evicts idle ones or answers 503 over_capacity; one that cannot fit at all goes
   * to the origin when configured. Isolates have 128 MiB for everything: the rest is JS.
   */
  memoryBudgetMb: number;
  /** Most rows waiting to run per graph in this isolate (503 over_capacity above). */
  maxQueuedRows: number;
  /**
   * Optional extra cap on one text graph's bytes (graph + external data); 0 = none (the
   * default: MEMORY_BUDGET_MB decides what loads).
   */
  maxGraphBytes: number;
  /** Largest single image, in bytes: fetched by `url`, or decoded from `b64` (413 above). */
  maxImageBytes: number;
  /** Per-attempt timeout of origin calls, in milliseconds. */
  originTimeoutMs: number;
  /**
   * Timeout of the origin's GET /readyz, the check sent first when the circuit breaker is
   * half-open, in milliseconds (at most ORIGIN_TIMEOUT_MS): a hung origin costs this per probe.
   */
  originProbeTimeoutMs: number;
  /** How long the origin circuit breaker stays open before one probe request, in milliseconds. */
  originBreakerResetMs: number;
  /**
   * Let `url` images point at private hosts (localhost, RFC 1918, ...). Off in production
   * (server-side request forgery); tests serving images from 127.0.0.1 turn it on.
   */
  allowPrivateImageHosts: boolean;

  // Body limits of the image-carrying routes.
  /**
   * Largest request body of the routes that carry images (`/v1/score`, and `/v1/embeddings`
   * when its input has an image), in bytes (413 above). Text-only `/v1/embeddings` bodies
   * stay under `maxBodyBytes`.
   */
  maxImageBodyBytes: number;

  // The batch API (docs/batch.md).
  /** Largest upload to POST /v1/files (purpose batch), in bytes (413 above). */
  maxBatchFileBytes: number;
  /** Most request lines in one batch's input file (413 at POST /v1/batches above). */
  maxBatchLines: number;
  /** Most batches not yet finished at once (503 overloaded at POST /v1/batches above). */
  maxConcurrentBatches: number;
  /** Request lines per queue message (chunk): the unit of retries and of parallel consumers. */
  batchChunkLines: number;
  /** Lines of one chunk in flight at once through the routes (feeds the micro-batcher). */
  batchLineConcurrency: number;
  /**
   * TEST ONLY: the queue consumer throws on every chunk's first delivery (after writing its
   * results), so Queues retries it. Off by default; never set it in a deployment.
   */
  batchFaultFirstDelivery: boolean;
}

export const DEFAULT_LIMITS: WorkerLimits = {
  maxBodyBytes: 64 * 1024,
  maxPromptChars: 4000,
  maxPrompts: 64,
  maxChunks: 32,
  maxConditionings: 256,
  maxImagesPerPrompt: 16,
  maxEncodeTokens: 256 * 77,
  maxOutputValues: 2 * 1024 * 1024,
  maxOutputBytes: 8 * 1024 * 1024,
  batchWindowMs: 0,
  rowCacheBytes: 2_000_000,
  maxBatchSize: 32,
  cacheTtlSeconds: 86_400,
  memoryBudgetMb: 120,
  maxQueuedRows: 64,
  maxGraphBytes: 0,
  maxImageBytes: 8 * 1024 * 1024,
  originTimeoutMs: 10_000,
  originProbeTimeoutMs: 2000,
  originBreakerResetMs: 10_000,
  allowPrivateImageHosts: false,

  // Body limits of the image-carrying routes.
  maxImageBodyBytes: 8 * 1024 * 1024,

  // The batch API.
  maxBatchFileBytes: 32 * 1024 * 1024,
  maxBatchLines: 50_000,
  maxConcurrentBatches: 16,
  batchChunkLines: 100,
  batchLineConcurrency: 16,
  batchFaultFirstDelivery: false,
};

type FlagLimit = "allowPrivateImageHosts" | "batchFaultFirstDelivery";
type NumericLimit = Exclude<keyof WorkerLimits, FlagLimit>;

/** The var that overrides each numeric limit. */
export const LIMIT_VARS = {
  maxBodyBytes: "MAX_BODY_BYTES",
  maxPromptChars: "MAX_PROMPT_CHARS",
  maxPrompts: "MAX_PROMPTS",
  maxChunks: "MAX_CHUNKS",
  maxConditionings: "MAX_CONDITIONINGS",
  maxImagesPerPrompt: "MAX_IMAGES_PER_PROMPT",
  maxEncodeTokens: "MAX_ENCODE_TOKENS",
  maxOutputValues: "MAX_OUTPUT_VALUES",
  maxOutputBytes: "MAX_OUTPUT_BYTES",
  batchWindowMs: "BATCH_WINDOW_MS",
  rowCacheBytes: "ROW_CACHE_BYTES",
  maxBatchSize: "MAX_BATCH_SIZE",
  cacheTtlSeconds: "CACHE_TTL_SECONDS",
  memoryBudgetMb: "MEMORY_BUDGET_MB",
  maxQueuedRows: "MAX_QUEUED_ROWS",
  maxGraphBytes: "MAX_GRAPH_BYTES",
  maxImageBytes: "MAX_IMAGE_BYTES",
  originTimeoutMs: "ORIGIN_TIMEOUT_MS",
  originProbeTimeoutMs: "ORIGIN_PROBE_TIMEOUT_MS",
  originBreakerResetMs: "ORIGIN_BREAKER_RESET_MS",

  // Body limits of the image-carrying routes.
  maxImageBodyBytes: "MAX_IMAGE_BODY_BYTES",

  // The batch API.
  maxBatchFileBytes: "MAX_BATCH_FILE_BYTES",
  maxBatchLines: "MAX_BATCH_LINES",
  maxConcurrentBatches: "MAX_CONCURRENT_BATCHES",
  batchChunkLines: "BATCH_CHUNK_LINES",
  batchLineConcurrency: "BATCH_LINE_CONCURRENCY",
} as const satisfies Record<NumericLimit, string>;

/** The var that turns on each flag. */
export const FLAG_VARS = {
  allowPrivateImageHosts: "ALLOW_PRIVATE_IMAGE_HOSTS",
  batchFaultFirstDelivery: "BATCH_FAULT_FIRST_DELIVERY",
} as const satisfies Record<FlagLimit, string>;

/** Every var name read here. */
export type LimitVar = (typeof LIMIT_VARS)[NumericLimit] | (typeof FLAG_VARS)[FlagLimit];
export const LIMIT_VAR_NAMES: readonly LimitVar[] = [
  ...Object.values(LIMIT_VARS),
  ...Object.values(FLAG_VARS),
];

/** The vars of a deployment that override limits (strings, as wrangler passes them). */
export type LimitVars = Partial<Record<LimitVar, string | boolean>>;

export function readLimits(vars: LimitVars): WorkerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_VARS) as NumericLimit[]) {
    const raw = vars[LIMIT_VARS[key]];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    const min =
      key === "batchWindowMs" ||
      key === "rowCacheBytes" ||
      key === "cacheTtlSeconds" ||
      key === "maxGraphBytes"
        ? 0
        : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new ClipEdgeError(
        "invalid_input",
        `wrangler var ${LIMIT_VARS[key]}=${JSON.stringify(raw)} must be an integer >= ${min}`,
      );
    }
    limits[key] = value;
  }
  for (const key of Object.keys(FLAG_VARS) as FlagLimit[]) {
    limits[key] = readFlag(vars, FLAG_VARS[key]);
  }
  return limits;
}

function readFlag(vars: LimitVars, name: LimitVar): boolean {
  const raw = vars[name];
  if (raw === undefined || raw === "" || raw === false) return false;
  if (raw === true) return true;
  const value = String(raw).toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new ClipEdgeError(
    "invalid_input",
    `wrangler var ${name}=${JSON.stringify(raw)} must be true or false`,
  );
}
