/** Options of the workers pool for `test/worker/**` (used by vitest.config.ts). */
export const workerTestOptions = {
  wrangler: { configPath: "./wrangler.toml" },
  miniflare: {
    bindings: {},
  },
};
