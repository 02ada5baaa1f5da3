import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Root of the shared reference fixtures. Override with CLIP_EDGE_FIXTURES.
 * A missing folder is an error (never a skip): CI must fail loudly without ground truth.
 */
export function fixturesDir(): string {
  const dir = process.env.CLIP_EDGE_FIXTURES
    ? resolve(process.env.CLIP_EDGE_FIXTURES)
    : resolve(repoRoot, "..", "shared", "fixtures");
  if (!existsSync(join(dir, "README.md"))) {
    throw new Error(
      `clip-edge test fixtures not found at ${dir}; set CLIP_EDGE_FIXTURES to the shared fixtures folder`,
    );
  }
  return dir;
}

export function fixturePath(...parts: string[]): string {
  return join(fixturesDir(), ...parts);
}

export { repoRoot };
