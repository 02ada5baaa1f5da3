/**
 * Issue #12: the memory budget under bursts, in workerd, with the CLIP-L-sized int8
 * `--edge` synthetic bundle (bench/workerd/app-bundle.ts: 12 layers x 768, per-token
 * int8, the measured memory profile in its manifest, the token table in R2). Bursts of
 * 1, 8, 32 and 64 concurrent uncached 77-token /v1/conditioning requests, 5 times each,
 * with the default MEMORY_BUDGET_MB: the WASM heap never passes the budget (read from
 * /readyz), every request succeeds or answers 503 over_capacity, and every answer equals
 * the same prompt's solo run to 1e-6.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { parseSafetensors, tensorToFloat32 } from "../../conditioning/formats/safetensors.ts";
import { createWorkerApp } from "../../worker/app-from-env.ts";
import { createWorkerOrtRuntime } from "../../worker/runtime/ort-wasm.ts";
import { seedBundle } from "./helpers/seed.ts";

const MODEL = "burst-clip-l";
const BURSTS = [1, 8, 32, 64];
const REPEATS = 5;
const prompt = (k: number) => `a photo of burst prompt ${k}, a red fox in the snow at dawn`;

interface Answer {
  status: number;
  code?: string;
  embeds?: Float32Array;
}

interface Ready {
  wasm_heap: { bytes: number; capped_grows: number };
  memory: { budget_bytes: number; estimated_bytes: number; graphs: { source: string }[] };
  sessions: { largest_batch: number; allocation_failures: number; refused: number }[];
}

describe("memory budget under bursts (CLIP-L int8 --edge)", () => {
  // No response cache: every request of every burst runs the encoder.
  const app = createWorkerApp({
    env: { MODELS: env.MODELS, DEFAULT_MODEL: MODEL } as never,
    runtime: createWorkerOrtRuntime,
    cache: () => undefined,
  });

  beforeAll(async () => {
    await seedBundle(MODEL, "clip-l");
  }, 300_000);

  async function condition(k: number): Promise<Answer> {
    const response = await app.request("/v1/conditioning", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: MODEL,
        prompt: prompt(k),
        format: "safetensors",
        do_classifier_free_guidance: false,
      }),
    });
    if (response.status !== 200) {
      const body = (await response.json()) as { error: { code: string } };
      return { status: response.status, code: body.error.code };
    }
    const file = parseSafetensors(new Uint8Array(await response.arrayBuffer()));
    return { status: 200, embeds: tensorToFloat32(file.tensors.get("prompt_embeds")!) };
  }

  const readyz = async () => (await (await app.request("/readyz")).json()) as Ready;

  it("keeps the heap within the budget; every answer is solo's or 503 over_capacity", async () => {
    const solo = new Map<number, Float32Array>();
    for (let k = 0; k < Math.max(...BURSTS); k++) {
      const answer = await condition(k);
      expect(answer.status, `solo ${k}`).toBe(200);
      solo.set(k, answer.embeds!);
    }
    const loaded = await readyz();
    expect(loaded.memory.budget_bytes).toBe(120e6);
    expect(loaded.memory.graphs[0].source).toBe("measured");
    const lines: string[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const size of BURSTS) {
        const started = Date.now();
        const answers = await Promise.all(Array.from({ length: size }, (_, k) => condition(k)));
        const ms = Date.now() - started;
        let refused = 0;
        answers.forEach((answer, k) => {
          const where = `burst ${size} #${repeat}, request ${k}`;
          if (answer.status === 503 && answer.code === "over_capacity") {
            refused++;
            return;
          }
          expect(answer.status, where).toBe(200);
          const ref = solo.get(k)!;
          let max = 0;
          for (let i = 0; i < ref.length; i++) {
            max = Math.max(max, Math.abs(answer.embeds![i] - ref[i]));
          }
          expect(max, `${where}: max |burst - solo|`).toBeLessThanOrEqual(1e-6);
        });
        const ready = await readyz();
        expect(ready.wasm_heap.bytes, `heap after burst ${size} #${repeat}`).toBeLessThanOrEqual(
          ready.memory.budget_bytes,
        );
        const s = ready.sessions[0];
        lines.push(
          `burst ${size} #${repeat}: ${ms} ms, heap ${(ready.wasm_heap.bytes / 1e6).toFixed(1)} MB (estimated ${(ready.memory.estimated_bytes / 1e6).toFixed(1)}), refused ${refused}, largest batch ${s.largest_batch}, allocation failures ${s.allocation_failures}, capped grows ${ready.wasm_heap.capped_grows}`,
        );
      }
    }
    console.log(lines.join("\n"));
  }, 1_800_000);
});
