/**
 * Throughput of the batch path vs online requests for the same 2,000 embeddings, on this
 * machine: the real worker (worker/index.ts, the repo's wrangler.toml) in wrangler's local
 * workerd (unstable_startWorker: local Queues, R2 and Durable Objects), the tiny fixture model,
 * response cache off (CACHE_TTL_SECONDS=0), fresh texts every run. Per run and path:
 * - online x1: 2,000 POST /v1/embeddings of one input, 16 in flight (a client's loop);
 * - online x64: 32 POST /v1/embeddings of 64 inputs (MAX_PROMPTS), 4 in flight;
 * - batch: upload the JSONL, create the batch, poll every 100 ms until completed, download
 *   the output file (the batch's lines are one input each, as online x1).
 * Paths alternate within each run. Prints JSON records and medians.
 *
 *   npx tsx bench/workerd/batch-throughput.ts [--runs 3] [--lines 2000]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { seedLocalR2 } from "../../node/local-dev/seed-local-r2.ts";
import { prepareBundle } from "../../node/prepare/prepare-bundle.ts";
import { summarize } from "../harness.ts";
import { round } from "../scenarios/stats.ts";
import { type BenchWorker, startBenchWorker } from "./start-bench-worker.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const CONFIG = join(root, "wrangler.toml");
const fixtures = resolve(process.env.CLIP_EDGE_FIXTURES ?? join(root, "..", "shared", "fixtures"));

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, lines: { type: "string", default: "2000" } },
});
const runs = Number(values.runs);
const lines = Number(values.lines);

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function json(response: Response) {
  const body = await response.json();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body as Record<string, unknown>;
}

async function onlineOne(fetch: Fetch, texts: string[]) {
  await pool(texts, 16, async (input) => {
    await json(
      await fetch("http://bench/v1/embeddings", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input }),
      }),
    );
  });
}

async function onlineGrouped(fetch: Fetch, texts: string[]) {
  const groups = Array.from({ length: Math.ceil(texts.length / 64) }, (_, i) =>
    texts.slice(i * 64, (i + 1) * 64),
  );
  await pool(groups, 4, async (input) => {
    await json(
      await fetch("http://bench/v1/embeddings", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input }),
      }),
    );
  });
}

async function batch(fetch: Fetch, texts: string[]) {
  const jsonl = texts
    .map((input, i) =>
      JSON.stringify({
        custom_id: `b-${i}`,
        method: "POST",
        url: "/v1/embeddings",
        body: { input },
      }),
    )
    .join("\n");
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new Blob([jsonl]), "bench.jsonl");
  // Serialised here: the worker's fetch (miniflare's undici) does not know Node's FormData.
  const multipart = new Request("http://bench/v1/files", { method: "POST", body: form });
  const file = await json(
    await fetch("http://bench/v1/files", {
      method: "POST",
      headers: { "content-type": multipart.headers.get("content-type")! },
      body: await multipart.arrayBuffer(),
    }),
  );
  let state = await json(
    await fetch("http://bench/v1/batches", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        input_file_id: file.id,
        endpoint: "/v1/embeddings",
        completion_window: "24h",
      }),
    }),
  );
  while (state.status !== "completed") {
    if (["failed", "cancelled", "expired"].includes(state.status as string)) {
      throw new Error(`batch ended ${state.status}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    state = await json(await fetch(`http://bench/v1/batches/${state.id}`));
  }
  const counts = state.request_counts as { completed: number };
  if (counts.completed !== texts.length) throw new Error(`batch: ${JSON.stringify(counts)}`);
  const out = await (await fetch(`http://bench/v1/files/${state.output_file_id}/content`)).text();
  if (out.trim().split("\n").length !== texts.length) throw new Error("batch output is short");
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-bench-batch-"));
  let worker: BenchWorker | undefined;
  try {
    const bundleDir = join(dir, "bundle");
    await prepareBundle({
      from: join(fixtures, "models", "tiny-openai"),
      out: bundleDir,
      quantization: "fp32",
      towers: ["text"],
      skipReport: true,
      name: "tiny-openai",
      memoryProfile: true,
    });
    const persist = join(dir, "state");
    await seedLocalR2({
      bundleDir,
      name: "tiny-openai",
      persistTo: persist,
      configPath: CONFIG,
      log: () => {},
    });
    worker = await startBenchWorker({
      config: CONFIG,
      persist,
      vars: { DEFAULT_MODEL: "tiny-openai", CACHE_TTL_SECONDS: "0", MEMORY_BUDGET_MB: "4000" },
    });
    const w = worker;
    const fetch: Fetch = (input, init) =>
      w.fetch(input, init as never) as unknown as Promise<Response>;
    const golden = JSON.parse(
      readFileSync(join(fixtures, "models", "tiny-openai", "golden.json"), "utf8"),
    ) as { prompts: { text: string }[] };
    const textsOf = (tag: string) =>
      Array.from(
        { length: lines },
        (_, i) => `${golden.prompts[i % golden.prompts.length].text.trim()} ${tag} ${i}`,
      );
    // Warm-up: model load and WASM compile, and the queue consumer's first delivery.
    await onlineGrouped(fetch, textsOf("warm-online").slice(0, 64));
    await batch(fetch, textsOf("warm-batch").slice(0, 200));
    const paths = {
      "online x1 (16 in flight)": onlineOne,
      "online x64 (4 in flight)": onlineGrouped,
      batch,
    };
    const samples: Record<string, number[]> = Object.fromEntries(
      Object.keys(paths).map((k) => [k, []]),
    );
    for (let run = 0; run < runs; run++) {
      for (const [name, fn] of Object.entries(paths)) {
        const t = performance.now();
        await fn(fetch, textsOf(`${name.split(" ")[0]}-${run}`));
        samples[name].push(performance.now() - t);
        process.stderr.write(`run ${run} ${name}: ${round(samples[name].at(-1)!)} ms\n`);
      }
    }
    const base = summarize(samples["online x1 (16 in flight)"]).median_ms;
    for (const [name, s] of Object.entries(samples)) {
      const t = summarize(s);
      process.stdout.write(
        `${JSON.stringify({
          scenario: "batch-throughput",
          path: name,
          embeddings: lines,
          runs: t.runs,
          median_ms: round(t.median_ms),
          embeddings_per_s: round((lines / t.median_ms) * 1000, 1),
          vs_online_x1: round(t.median_ms / base, 3),
          samples_ms: s.map((v) => round(v)),
        })}\n`,
      );
    }
  } finally {
    await worker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
