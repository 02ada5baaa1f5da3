/**
 * Puts a bundle into wrangler's LOCAL R2 (the same persisted state `wrangler dev
 * --persist-to` reads), through wrangler's getPlatformProxy. Files already there
 * with the same SHA-256 (custom metadata) are skipped.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleFileNames } from "../../conditioning/bundle/graph-files.ts";
import type { BundleManifest } from "../../conditioning/bundle/manifest.ts";

interface R2Like {
  head(key: string): Promise<{ customMetadata?: Record<string, string> } | null>;
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
  const { getPlatformProxy } = await import("wrangler");
  const proxy = await getPlatformProxy<{ MODELS: R2Like }>({
    configPath: options.configPath,
    persist: { path: join(options.persistTo, "v3") },
    remoteBindings: false,
  });
  let uploaded = 0;
  let skipped = 0;
  try {
    const manifestBytes = readFileSync(join(options.bundleDir, "manifest.json"));
    const manifest = JSON.parse(manifestBytes.toString("utf8")) as BundleManifest;
    // manifest.json last: a model is visible only once all its files are in place.
    for (const file of [...bundleFileNames(manifest), "manifest.json"]) {
      const bytes = new Uint8Array(readFileSync(join(options.bundleDir, file)));
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const key = `${options.name}/${file}`;
      const existing = await proxy.env.MODELS.head(key);
      if (existing?.customMetadata?.sha256 === sha256) {
        skipped++;
        continue;
      }
      options.log(`R2 (local) put ${key} (${bytes.byteLength} bytes)`);
      await proxy.env.MODELS.put(key, bytes, { customMetadata: { sha256 } });
      uploaded++;
    }
  } finally {
    await proxy.dispose();
  }
  return { uploaded, skipped };
}
