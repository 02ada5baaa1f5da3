import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { workerTestOptions } from "./test/worker/pool-options.ts";

/**
 * Three projects, one `npm test`:
 * - `unit`: fast Node tests of every root (test/ mirrors the source tree);
 * - `slow`: Node suites that spawn processes or build models (bench schemas,
 *   the `npm start` and end-to-end CLI checks): `*.slow.test.ts` and test/bench;
 * - `worker`: the worker app inside workerd (`*.workerd.test.ts`).
 * `vitest run --project unit` runs one of them.
 */
// Miniflare would look up request.cf at workers.cloudflare.com on every start (the worker does
// not read it; offline that printed a getaddrinfo error per start).
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const WORKERD = "test/**/*.workerd.test.ts";
const SLOW = ["test/**/*.slow.test.ts", "test/bench/**/*.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: [WORKERD, ...SLOW, "node_modules/**"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "slow",
          include: SLOW,
          exclude: [WORKERD, "node_modules/**"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        plugins: [cloudflareTest(workerTestOptions)],
        // A checkout whose node_modules is a link (a git worktree sharing one install) must
        // still resolve onnxruntime-web's .wasm inside node_modules, not at the link's target.
        resolve: { preserveSymlinks: true },
        test: {
          name: "worker",
          include: [WORKERD],
          globalSetup: ["test/worker/global-setup.ts", "test/worker/e2e/origin-global-setup.ts"],
          // The first request compiles onnxruntime-web's WASM inside workerd: over a minute on a
          // loaded 2-core machine.
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
