/**
 * Request limits and tuning knobs, read from wrangler `[vars]` (strings) with
 * sane defaults. A malformed var is a configuration error, reported by name.
 */
import { ClipEdgeError } from "../../conditioning/errors.ts";

export interface WorkerLimits {
  /** Largest request body accepted, in bytes (413 above). */
  maxBodyBytes: number;
  /** Longest single prompt, in characters (413 above). */
  maxPromptChars: number;
  /** Most prompts (or embedding inputs) in one request (413 above). */
  maxPrompts: number;
  /** Micro-batching window for concurrent runs of one graph, in milliseconds. */
  batchWindowMs: number;
  /** Most sequences in one `session.run`. */
  maxBatchSize: number;
  /** `Cache-Control: max-age` of cacheable responses, in seconds (0 disables the cache). */
  cacheTtlSeconds: number;
}

export const DEFAULT_LIMITS: WorkerLimits = {
  maxBodyBytes: 64 * 1024,
  maxPromptChars: 4000,
  maxPrompts: 64,
  batchWindowMs: 4,
  maxBatchSize: 32,
  cacheTtlSeconds: 86_400,
};

const VARS: Record<keyof WorkerLimits, string> = {
  maxBodyBytes: "MAX_BODY_BYTES",
  maxPromptChars: "MAX_PROMPT_CHARS",
  maxPrompts: "MAX_PROMPTS",
  batchWindowMs: "BATCH_WINDOW_MS",
  maxBatchSize: "MAX_BATCH_SIZE",
  cacheTtlSeconds: "CACHE_TTL_SECONDS",
};

export function readLimits(vars: Record<string, unknown>): WorkerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(VARS) as (keyof WorkerLimits)[]) {
    const raw = vars[VARS[key]];
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    const min = key === "batchWindowMs" || key === "cacheTtlSeconds" ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new ClipEdgeError(
        "invalid_input",
        `wrangler var ${VARS[key]}=${JSON.stringify(raw)} must be an integer >= ${min}`,
      );
    }
    limits[key] = value;
  }
  return limits;
}
