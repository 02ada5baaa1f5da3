/**
 * Puts a bundle into wrangler's LOCAL R2 (the same persisted state `wrangler dev
 * --persist-to` reads), through wrangler's getPlatformProxy. A file already there is
 * skipped only when its stored bytes hash to the bundle file's SHA-256 (the `sha256`
 * custom metadata alone is not trusted: a corrupt object with the right metadata is
 * re-uploaded, so re-seeding repairs it).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleFileNames } from "../../conditioning/bundle/graph-files.ts";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";

export interface R2Like {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  put(
    key: string,
    value: Uint8Array,
    options?: { customMetadata?: Record<string, string> },
  ): Promise<unknown>;
}

export interface SeedOptions {
  bundleDir: string;
  name: string;
  /** wrangler's state folder (`--persist-to`), e.g. `.wrangler/state`. */
  persistTo: string;
  configPath: string;
  log: (line: string) => void;
}

export async function seedLocalR2(
  options: SeedOptions,
): Promise<{ uploaded: number; skipped: number }> {
  const { getPlatformProxy, unstable_readConfig } = await import("wrangler");
  // Only the MODELS bucket of the config: its Durable Objects and queues belong to the
  // worker's own script, which this proxy does not run (wrangler would warn about them).
  const config = unstable_readConfig({ config: options.configPath });
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-seed-"));
  const configPath = join(dir, "wrangler.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      name: config.name,
      compatibility_date: config.compatibility_date,
      r2_buckets: config.r2_buckets.filter((b: { binding: string }) => b.binding === "MODELS"),
    }),
  );
  const proxy = await getPlatformProxy<{ MODELS: R2Like }>({
    configPath,
    persist: { path: join(options.persistTo, "v3") },
    remoteBindings: false,
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const manifestBytes = readFileSync(join(options.bundleDir, "manifest.json"));
    const manifest = JSON.parse(manifestBytes.toString("utf8")) as BundleManifest;
    // manifest.json last: a model is visible only once all its files are in place.
    const files = [...bundleFileNames(manifest), "manifest.json"].map((file) => ({
      key: `${options.name}/${file}`,
      read: () => new Uint8Array(readFileSync(join(options.bundleDir, file))),
    }));
    return await seedFiles(proxy.env.MODELS, files, options.log);
  } finally {
    await proxy.dispose();
  }
}

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Puts each file whose stored bytes differ (by SHA-256) from its own, in order, one in memory at a time. */
export async function seedFiles(
  bucket: R2Like,
  files: readonly { key: string; read: () => Uint8Array }[],
  log: (line: string) => void,
): Promise<{ uploaded: number; skipped: number }> {
  let uploaded = 0;
  let skipped = 0;
  for (const { key, read } of files) {
    const bytes = read();
    const sha256 = sha256Of(bytes);
    const existing = await bucket.get(key);
    if (existing && sha256Of(new Uint8Array(await existing.arrayBuffer())) === sha256) {
      skipped++;
      continue;
    }
    log(
      `R2 (local) put ${key} (${bytes.byteLength} bytes)${existing ? " (stored bytes differed)" : ""}`,
    );
    await bucket.put(key, bytes, { customMetadata: { sha256 } });
    uploaded++;
  }
  return { uploaded, skipped };
}
