/**
 * Inside workerd: the worker app wired to the real origin started by origin-global-setup.ts
 * (ORIGIN_URL / ORIGIN_SECRET as the deployed worker gets them), and the control server
 * that stops / restarts that origin and serves `url` images.
 */
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { encodeBase64 } from "../../../conditioning/formats/base64.ts";
import { createWorkerApp } from "../../../worker/app-from-env.ts";
import { createWorkerOrtRuntime } from "../../../worker/runtime/ort-wasm.ts";
import { fixtureBytes } from "../helpers/seed.ts";

export const ORIGIN_TIMEOUT_MS = 3000;
export const BREAKER_RESET_MS = 300;

/** The worker app; `vars` override the test config (e.g. an origin that hangs). */
export function createE2eApp(vars: Record<string, string> = {}) {
  return createWorkerApp({
    env: {
      MODELS: env.MODELS,
      DEFAULT_MODEL: "tiny-openai",
      ORIGIN_URL: inject("e2eOriginUrl"),
      ORIGIN_SECRET: inject("e2eOriginSecret"),
      ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS),
      ORIGIN_BREAKER_RESET_MS: String(BREAKER_RESET_MS),
      ALLOW_PRIVATE_IMAGE_HOSTS: "true",
      CACHE_TTL_SECONDS: "0",
      BATCH_WINDOW_MS: "5",
      ...vars,
    } as never,
    runtime: createWorkerOrtRuntime,
  });
}

export const imageUrl = (file: string) => `${inject("e2eControlUrl")}/images/${file}`;

/** An ORIGIN_URL that accepts connections and never answers. */
export const hangingOriginUrl = () => `${inject("e2eControlUrl")}/hang`;

export async function imageB64(file: string): Promise<string> {
  return encodeBase64(await fixtureBytes(`fixtures/images/${file}`));
}

/** POST /origin/stop or /origin/start on the control server; resolves with its ms when done. */
export async function origin(action: "stop" | "start"): Promise<number> {
  const response = await fetch(`${inject("e2eControlUrl")}/origin/${action}`, { method: "POST" });
  if (!response.ok) throw new Error(`origin ${action}: HTTP ${response.status}`);
  return ((await response.json()) as { ms: number }).ms;
}

export const jsonPost = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
