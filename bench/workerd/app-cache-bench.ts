/**
 * Cache-hit latency of the real worker app (worker/index.ts, the repo's
 * wrangler.toml) in workerd via wrangler's unstable_startWorker, with local R2
 * and the Cache API persisted in a temporary folder. A prepared bundle is
 * seeded into MODELS (node/local-dev/seed-local-r2.ts), then per route and per
 * sample, from outside: a miss (a prompt not asked before: inference), the
 * same request again (a hit) and, with the ETag, a 304. Every hit must say
 * `X-Cache: HIT` and return the miss's bytes, or the run throws.
 */
import { fileURLToPath } from "node:url";
import { type BenchResult, summarize } from "../harness.ts";
import { round, toMb } from "../scenarios/stats.ts";
import { startAppWorker } from "./start-bench-worker.ts";

const CONFIG = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));

export interface CacheRoute {
  path: "/v1/embeddings" | "/v1/conditioning";
  /** Request body for a prompt. */
  body: (model: string, prompt: string) => Record<string, unknown>;
  /** Labels of the records (e.g. the response format). */
  labels?: Record<string, string>;
}

export const CACHE_ROUTES: CacheRoute[] = [
  { path: "/v1/embeddings", body: (model, input) => ({ model, input }) },
  {
    path: "/v1/conditioning",
    body: (model, prompt) => ({ model, prompt, format: "safetensors" }),
    labels: { format: "safetensors" },
  },
];

export interface CacheHitOptions {
  bundleDir: string;
  /** R2 / API model name of the bundle. */
  name: string;
  /** Record labels. */
  model: string;
  variant: string;
  /** Miss / hit / 304 samples per route (one fresh prompt each). */
  runs: number;
  routes?: CacheRoute[];
  log: (line: string) => void;
}

interface Sample {
  ms: number;
  status: number;
  cache: string | null;
  etag: string | null;
  bytes: Uint8Array;
}

export async function measureCacheHit(options: CacheHitOptions): Promise<BenchResult[]> {
  let app: Awaited<ReturnType<typeof startAppWorker>> | undefined;
  try {
    // DEFAULT_MODEL (set to the bundle): /readyz, read at the end for the WASM heap, checks it.
    app = await startAppWorker({
      config: CONFIG,
      bundleDir: options.bundleDir,
      name: options.name,
    });
    const w = app.worker;
    const request = async (
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Sample> => {
      const t = performance.now();
      const res = await w.fetch(`http://bench${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const ms = performance.now() - t;
      if (!res.ok && res.status !== 304) {
        throw new Error(
          `worker ${path}: HTTP ${res.status} ${new TextDecoder().decode(bytes.slice(0, 500))}`,
        );
      }
      return {
        ms,
        status: res.status,
        cache: res.headers.get("x-cache"),
        etag: res.headers.get("etag"),
        bytes,
      };
    };
    const noop: number[] = [];
    for (let i = 0; i < 20; i++) noop.push((await request("/healthz")).ms);
    const rtt = round(summarize(noop).median_ms);
    const routes = options.routes ?? CACHE_ROUTES;
    const nonce = Math.random().toString(36).slice(2, 8);
    const records: BenchResult[] = [];
    for (const route of routes) {
      const promptOf = (i: number) =>
        `a photo of bench prompt ${nonce} number ${i} on ${route.path}`;
      // First request: R2 reads, tokenizer and session creation (once per isolate and model).
      const first = await request(route.path, route.body(options.name, promptOf(-1)));
      const miss: number[] = [];
      const hit: number[] = [];
      const notModified: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        const body = route.body(options.name, promptOf(i));
        const m = await request(route.path, body);
        if (m.cache !== "MISS" || !m.etag) {
          throw new Error(
            `${route.path} #${i}: expected X-Cache MISS with an ETag, got ${m.cache}`,
          );
        }
        // The miss's cache.put runs in waitUntil, after its answer: untimed repeats until it
        // has landed, then the timed hit.
        for (let k = 0; k < 20 && (await request(route.path, body)).cache !== "HIT"; k++) {
          await new Promise((r) => setTimeout(r, 25));
        }
        const h = await request(route.path, body);
        if (h.cache !== "HIT" || h.etag !== m.etag || !sameBytes(h.bytes, m.bytes)) {
          throw new Error(
            `${route.path} #${i}: the repeat was not a hit with the miss's bytes (X-Cache ${h.cache}, ${h.bytes.byteLength} vs ${m.bytes.byteLength} bytes)`,
          );
        }
        const r = await request(route.path, body, { "if-none-match": m.etag });
        if (r.status !== 304 || r.cache !== "HIT") {
          throw new Error(
            `${route.path} #${i}: If-None-Match got ${r.status} (X-Cache ${r.cache})`,
          );
        }
        miss.push(m.ms);
        hit.push(h.ms);
        notModified.push(r.ms);
      }
      const base = {
        scenario: "cache-hit",
        model: options.model,
        variant: options.variant,
        runtime: "workerd",
        route: route.path,
        ...route.labels,
      };
      const missStats = summarize(miss);
      const stats = (samples: number[]) => {
        const s = summarize(samples);
        return { median_ms: round(s.median_ms), p95_ms: round(s.p95_ms), runs: s.runs };
      };
      records.push({
        ...base,
        cache: "miss",
        ...stats(miss),
        first_request_ms: round(first.ms),
        response_bytes: first.bytes.byteLength,
        rtt_ms: rtt,
      });
      for (const [cache, samples] of [
        ["hit", hit],
        ["not-modified-304", notModified],
      ] as const) {
        const s = stats(samples);
        records.push({
          ...base,
          cache,
          ...s,
          miss_median_ms: round(missStats.median_ms),
          ratio_vs_miss: round(s.median_ms / missStats.median_ms, 4),
          rtt_ms: rtt,
        });
      }
    }
    // The isolate's WASM heap after everything above (it never shrinks: the peak).
    const ready = JSON.parse(new TextDecoder().decode((await request("/readyz")).bytes)) as {
      wasm_heap?: { bytes: number };
    };
    const heap = ready.wasm_heap ? { peak_wasm_mb: toMb(ready.wasm_heap.bytes) } : {};
    return records.map((r) => ({ ...r, ...heap }));
  } finally {
    await app?.dispose();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
