/** Seeds the MODELS bucket with the prepared tiny-openai bundle, and reads fixtures, inside workerd. */
import { env } from "cloudflare:workers";
import { bundleFileNames } from "../../../conditioning/bundle/graph-files.ts";
import type { BundleManifest } from "../../../conditioning/bundle/manifest.ts";

export interface TestEnv extends Env {
  FIXTURES: Fetcher;
}

export const testEnv = env as unknown as TestEnv;

export async function fixtureBytes(path: string): Promise<Uint8Array> {
  const response = await testEnv.FIXTURES.fetch(`http://fixtures/${path}`);
  if (!response.ok) throw new Error(`fixture ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Puts manifest.json and every file it names under `<name>/` in MODELS; returns
 * the manifest. `from`: the prepared bundle (global-setup.ts), e.g.
 * `bundle/variants/int8-external`.
 */
export async function seedBundle(name = "tiny-openai", from = "bundle"): Promise<BundleManifest> {
  const manifestBytes = await fixtureBytes(`${from}/manifest.json`);
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as BundleManifest;
  const files = bundleFileNames(manifest);
  for (const file of files) {
    await testEnv.MODELS.put(`${name}/${file}`, await fixtureBytes(`${from}/${file}`));
  }
  await testEnv.MODELS.put(`${name}/manifest.json`, manifestBytes);
  return manifest;
}
