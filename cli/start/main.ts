/**
 * `npm start`: prepare the model if needed, seed wrangler's local R2, run
 * `wrangler dev` on 127.0.0.1:8787 with DEFAULT_MODEL set to it.
 */
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import { modelSourceOptionsFromEnv } from "../../node/hub/model-source-env.ts";
import { seedLocalR2 } from "../../node/local-dev/seed-local-r2.ts";
import { ensureBundle } from "./ensure-bundle.ts";
import { killGroup, type OriginProcess, startOriginProcess } from "./origin-process.ts";
import { DEFAULT_MODEL, parseStartArgs, START_USAGE } from "./start-args.ts";

const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

async function main(argv: string[]): Promise<number> {
  const options = parseStartArgs(argv);
  if (options.help) {
    process.stdout.write(START_USAGE);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`clip-edge start: ${line}\n`);
  // No request.cf lookup (workers.cloudflare.com): the worker reads nothing from it, and offline
  // it printed a getaddrinfo error twice per start. CLOUDFLARE_CF_FETCH_ENABLED=true restores it.
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
  };
  const bundle = await ensureBundle({
    spec: options.model,
    quant: options.quant,
    name: options.name,
    isDefault: options.model === DEFAULT_MODEL,
    log,
    resolve: modelSourceOptionsFromEnv(env, {
      fetch: globalThis.fetch as never,
      homeDir: homedir(),
    }),
  });
  const persistTo = resolve(repoRoot, options.persistTo);
  const configPath = join(repoRoot, "wrangler.toml");
  const seeded = await seedLocalR2({
    bundleDir: bundle.dir,
    name: bundle.name,
    persistTo,
    configPath,
    log,
  });
  log(
    `model ${bundle.name} in local R2 (${seeded.uploaded} uploaded, ${seeded.skipped} unchanged) from ${bundle.dir}`,
  );
  if (options.seedOnly) return 0;

  const origin = await originVars(options, bundle.sourceDir, env, log);

  const args = [
    "wrangler",
    "dev",
    "--config",
    configPath,
    "--ip",
    options.ip,
    "--port",
    String(options.port),
    "--persist-to",
    persistTo,
    "--var",
    `DEFAULT_MODEL:${bundle.name}`,
    // Local dev has no 128 MB isolate limit: a workstation's budget, any graph size.
    "--var",
    "MEMORY_BUDGET_MB:4000",
    ...origin.vars,
    ...options.vars.flatMap((pair) => ["--var", pair]),
  ];
  log(`serving on http://${options.ip}:${options.port} (model ${bundle.name}); try:`);
  log(
    `  curl -s http://${options.ip}:${options.port}/v1/embeddings -H 'content-type: application/json' -d '{"input":"a photo of a cat"}'`,
  );
  // Own process group, so that stopping ends npx, wrangler and workerd together.
  const child = spawn("npx", args, { cwd: repoRoot, env, stdio: "inherit", detached: true });
  const stop = () => {
    killGroup(child, "SIGINT");
    origin.process?.stop();
  };
  // wrangler's own module (used above to seed R2) exits on SIGINT itself: whichever way this
  // process ends, wrangler dev and the origin end with it.
  process.once("exit", stop);
  process.prependListener("SIGINT", stop);
  process.prependListener("SIGTERM", stop);
  origin.process?.child.once("exit", (code) => {
    log(`the image origin exited (code ${code}); image routes answer 503 origin_unavailable`);
  });
  return new Promise((done) =>
    child.on("exit", (code) => {
      origin.process?.stop();
      done(code ?? 0);
    }),
  );
}

/** `--origin` starts one; `--origin-url` wires in a running one (secret from ORIGIN_SECRET). */
async function originVars(
  options: ReturnType<typeof parseStartArgs>,
  sourceDir: string,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<{ vars: string[]; process?: OriginProcess }> {
  const wire = (url: string, secret: string) => [
    "--var",
    `ORIGIN_URL:${url}`,
    "--var",
    `ORIGIN_SECRET:${secret}`,
  ];
  if (options.originUrl) {
    const secret = env.ORIGIN_SECRET ?? "";
    if (secret.length < 16) {
      throw new ClipEdgeError(
        "usage",
        "start: --origin-url needs the origin's secret in ORIGIN_SECRET (>= 16 characters)",
      );
    }
    return { vars: wire(options.originUrl, secret) };
  }
  if (!options.origin) return { vars: [] };
  const started = await startOriginProcess({
    model: sourceDir,
    port: options.originPort,
    repoRoot,
    cacheDir: modelSourceOptionsFromEnv(env, {
      fetch: globalThis.fetch as never,
      homeDir: homedir(),
    }).cacheDir,
    env,
    log,
  });
  return { vars: wire(started.url, started.secret), process: started };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `clip-edge start: ${isClipEdgeError(error) ? error.message : (error as Error).stack}\n`,
    );
    process.exit(isClipEdgeError(error) && error.code === "usage" ? 2 : 1);
  },
);
