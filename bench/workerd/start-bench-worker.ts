/**
 * One way for the bench to start a worker in workerd (wrangler's
 * unstable_startWorker): no inspector (an attached debugger tiers WASM down),
 * no watch, no logs on stdout (--json reserves it for records), optional local
 * persistence (R2, Durable Objects, Queues) and plain-text vars.
 *
 * A worker that fails to start (e.g. an entry that does not export a Durable
 * Object class the config binds) is logged by wrangler, and `ready` never
 * settles: the bench would hang. `ready` is therefore raced against a
 * timeout, and the error names the config, the entry and wrangler's log.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedLocalR2 } from "../../node/local-dev/seed-local-r2.ts";

export interface BenchWorkerOptions {
  /** wrangler.toml to start. */
  config: string;
  /** Entry module other than the config's `main`. */
  entrypoint?: string;
  /** Directory for local R2 / Durable Object / Queue state. */
  persist?: string;
  /** Plain-text vars (bindings) set over the config's. */
  vars?: Record<string, string>;
  /** How long the worker may take to start; default 90 s. */
  readyTimeoutMs?: number;
}

export type BenchWorker = Awaited<ReturnType<typeof import("wrangler").unstable_startWorker>>;

export async function startBenchWorker(options: BenchWorkerOptions): Promise<BenchWorker> {
  // Offline: miniflare would try to download the Request.cf object and print the
  // failure on stdout.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const { unstable_startWorker } = await import("wrangler");
  const bindings = Object.fromEntries(
    Object.entries(options.vars ?? {}).map(([k, value]) => [
      k,
      { type: "plain_text" as const, value },
    ]),
  );
  const worker = await unstable_startWorker({
    config: options.config,
    ...(options.entrypoint ? { entrypoint: options.entrypoint } : {}),
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      ...(options.persist ? { persist: options.persist } : {}),
      logLevel: "none",
      watch: false,
    },
  });
  const timeoutMs = options.readyTimeoutMs ?? 90_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `workerd did not start within ${timeoutMs / 1000} s (config ${options.config}, ` +
              `entry ${options.entrypoint ?? "its main"}); wrangler's log under ~/.config/.wrangler/logs says why`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([worker.ready, timedOut]);
  } catch (error) {
    await worker.dispose().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return worker;
}

export interface AppWorkerOptions {
  /** wrangler.toml of the app (its R2 binding is seeded). */
  config: string;
  entrypoint?: string;
  /** A prepared bundle, served as `name` from a fresh local R2. */
  bundleDir: string;
  name: string;
  vars?: Record<string, string>;
}

/**
 * The worker app serving one bundle from its own temporary local R2 (seeded
 * like `npm start` does), DEFAULT_MODEL set to it. `dispose` stops the worker
 * and removes the folder.
 */
export async function startAppWorker(
  options: AppWorkerOptions,
): Promise<{ worker: BenchWorker; dispose(): Promise<void> }> {
  const persist = mkdtempSync(join(tmpdir(), "clip-edge-bench-app-"));
  const remove = () => rmSync(persist, { recursive: true, force: true });
  try {
    await seedLocalR2({
      bundleDir: options.bundleDir,
      name: options.name,
      persistTo: persist,
      configPath: options.config,
      log: () => {},
    });
    const worker = await startBenchWorker({
      config: options.config,
      ...(options.entrypoint ? { entrypoint: options.entrypoint } : {}),
      persist,
      vars: { DEFAULT_MODEL: options.name, ...options.vars },
    });
    return {
      worker,
      async dispose() {
        await worker.dispose();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}
