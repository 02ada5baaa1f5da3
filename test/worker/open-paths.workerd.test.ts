/** Issue #12: what the open paths say without a key, and a missing DEFAULT_MODEL (503, not 404). */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { OPEN_PATHS } from "../../worker/app.ts";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { seedBundle } from "./helpers/seed.ts";

beforeAll(async () => {
  await seedBundle();
});

const appWith = (vars: { DEFAULT_MODEL: string; API_KEYS?: string }) =>
  createWorkerApp({ env: { MODELS: env.MODELS, ...vars }, runtime: createWorkerOrtRuntime });

describe("open paths with API keys configured", () => {
  const app = appWith({ DEFAULT_MODEL: "tiny-openai", API_KEYS: "key-one" });

  it("the open paths are /healthz, /readyz and /openapi.json", async () => {
    expect([...OPEN_PATHS].sort()).toEqual(["/healthz", "/openapi.json", "/readyz"]);
    for (const path of OPEN_PATHS) expect((await app.request(path)).status).toBe(200);
    expect((await app.request("/v1/models")).status).toBe(401);
  });

  it("/readyz without a valid key says status, model and auth only; with a key, the stats", async () => {
    const cases: Record<string, string>[] = [{}, { authorization: "Bearer wrong-key" }];
    for (const headers of cases) {
      const bare = (await (await app.request("/readyz", { headers })).json()) as object;
      expect(bare).toEqual({ status: "ready", model: "tiny-openai", auth: "api_keys" });
    }
    const full = (await (
      await app.request("/readyz", { headers: { authorization: "Bearer key-one" } })
    ).json()) as { status: string; hash: string; sessions: unknown[]; load_ms: number };
    expect(full.status).toBe("ready");
    expect(full.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(full.sessions.length).toBeGreaterThan(0);
  });
});

describe("a DEFAULT_MODEL missing from R2 is the deployment's fault", () => {
  const app = appWith({ DEFAULT_MODEL: "not-uploaded" });
  const tokenize = (body: object) =>
    app.request("/v1/tokenize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a cat", ...body }),
    });

  it("503 unavailable naming DEFAULT_MODEL for a request naming no model", async () => {
    const response = await tokenize({});
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBeTruthy();
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("unavailable");
    expect(error.message).toMatch(/default model "not-uploaded" \(DEFAULT_MODEL\)/);
    expect((await app.request("/readyz")).status).toBe(503);
  });

  it("404 not_found for a model the caller named", async () => {
    const response = await tokenize({ model: "also-missing" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await tokenize({ model: "tiny-openai" })).status).toBe(200);
  });
});
