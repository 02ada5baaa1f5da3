/**
 * Inside workerd: the worker app wired to the real origin started by origin-global-setup.ts
 * (ORIGIN_URL / ORIGIN_SECRET as the deployed worker gets them), and the control server
 * that stops / restarts that origin and serves `url` images.
 */
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { encodeBase64 } from "../../../conditioning/formats/base64.ts";
import { createWorkerOrtRuntime } from "../../../worker/runtime/ort-wasm.ts";
import { createWorkerApp } from "../../../worker/worker-app.ts";
import { fixtureBytes } from "../helpers/seed.ts";

export const ORIGIN_TIMEOUT_MS = 3000;
export const BREAKER_RESET_MS = 300;

export function createE2eApp() {
  return createWorkerApp({
    env: {
      MODELS: env.MODELS,
      DEFAULT_MODEL: "tiny-openai",
      ORIGIN_URL: inject("e2eOriginUrl"),
      ORIGIN_SECRET: inject("e2eOriginSecret"),
      ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS),
      ORIGIN_BREAKER_RESET_MS: String(BREAKER_RESET_MS),
      ALLOW_PRIVATE_IMAGE_HOSTS: "true",
      MAX_BODY_BYTES: String(4 << 20),
      CACHE_TTL_SECONDS: "0",
      BATCH_WINDOW_MS: "5",
    } as never,
    runtime: createWorkerOrtRuntime,
  });
}

export const imageUrl = (file: string) => `${inject("e2eControlUrl")}/images/${file}`;

export async function imageB64(file: string): Promise<string> {
  return encodeBase64(await fixtureBytes(`fixtures/images/${file}`));
}

/** POST /origin/stop or /origin/start on the control server; resolves when done. */
export async function origin(action: "stop" | "start"): Promise<void> {
  const response = await fetch(`${inject("e2eControlUrl")}/origin/${action}`, { method: "POST" });
  if (!response.ok) throw new Error(`origin ${action}: HTTP ${response.status}`);
  await response.arrayBuffer();
}

export const jsonPost = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
