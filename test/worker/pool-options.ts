/**
 * Options of the workers pool for the workerd tests (`*.workerd.test.ts` files) (used by vitest.config.ts).
 * A FIXTURES service binding, running in Node, serves `/bundle/<file>` from the
 * bundle prepared by global-setup.ts and `/fixtures/<path>` from the shared
 * fixtures, so tests can seed R2 and read goldens inside workerd.
 */
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";
import { Response } from "miniflare";
import type { inject as vitestInject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    workerBundleDir: string;
    workerFixturesDir: string;
    clipLBundleDir: string;
  }
}

function serve(roots: Record<string, string>) {
  return async (request: { url: string }) => {
    const { pathname } = new URL(request.url);
    const [, root, ...rest] = pathname.split("/");
    const base = roots[root];
    const relative = normalize(decodeURIComponent(rest.join("/")));
    if (!base || relative.startsWith("..")) return new Response("not found", { status: 404 });
    try {
      return new Response(await readFile(join(base, relative)));
    } catch {
      return new Response(`no file ${pathname}`, { status: 404 });
    }
  };
}

export function workerTestOptions({ inject }: { inject: typeof vitestInject }) {
  return {
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: { DEFAULT_MODEL: "tiny-openai", BATCH_WINDOW_MS: "5" },
      serviceBindings: {
        FIXTURES: serve({
          bundle: inject("workerBundleDir"),
          fixtures: inject("workerFixturesDir"),
          "clip-l": inject("clipLBundleDir"),
        }),
      },
    },
  };
}
