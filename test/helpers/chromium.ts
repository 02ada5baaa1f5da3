/**
 * Debian's Chromium (`apt-get install chromium`; CLIP_EDGE_CHROMIUM overrides the path) driven
 * by playwright-core, which never downloads a browser of its own. A missing browser fails the
 * suite with the way to install it (never a skip).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export function chromiumPath(): string {
  const path = process.env.CLIP_EDGE_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}: the playground's browser tests need it. Install Debian's package (apt-get install chromium; .ci/run does) or set CLIP_EDGE_CHROMIUM to a Chromium binary.`,
    );
  }
  return path;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}
