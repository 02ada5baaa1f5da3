/**
 * Per-token vs per-tensor int8 on the CLIP-L `--edge` (staged) text tower, in one
 * onnxruntime-web process, runs interleaved (A B B A ...) so that load on a shared
 * machine hits both alike (issue #11's target: per-token full-77 latency <= 1.15x the
 * per-tensor int8 `--edge` of the same run). Uses the bench's model cache (variants
 * `int8-staged` and `int8-tensor-staged`, built on first use).
 *
 *   node --expose-gc --import tsx bench/experiments/int8-staged-interleaved.ts [rounds]
 */
import { closeSync, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { createTokenEmbeddingRows } from "../../conditioning/encoder/token-embedding-rows.ts";
import { withTokenEmbeds } from "../../conditioning/encoder/token-embeds-session.ts";
import { summarize } from "../harness.ts";
import { loadSession } from "../scenarios/bench-runtimes.ts";
import { promptIds } from "../scenarios/prompt-ids.ts";
import { createModelCache, filePath, type PreparedModel } from "../synthetic/model-cache.ts";
import { modelSpec } from "../synthetic/model-specs.ts";
import { variantSpec } from "../synthetic/variants.ts";

const VARIANTS = ["int8-tensor-staged", "int8-staged"] as const;
const P = 77;

async function open(prepared: PreparedModel) {
  const loaded = await loadSession("wasm-node", prepared, { heapGrowth: "tight" });
  loaded.dropBytes();
  const table = prepared.embeddings!;
  const fd = openSync(filePath(prepared, table.file), "r");
  const session = withTokenEmbeds(
    loaded.session,
    await createTokenEmbeddingRows({
      readRange: async (offset, length) => {
        const bytes = new Uint8Array(length);
        readSync(fd, bytes, 0, length, offset);
        return bytes;
      },
      label: table.file,
      fileSize: table.bytes,
      vocabSize: table.vocabSize,
      width: table.width,
      cacheRows: 0,
    }),
    loaded.session.tensor,
  );
  return { session, createMs: loaded.createMs, close: () => closeSync(fd) };
}

async function main(rounds: number) {
  const spec = modelSpec("clip-vit-l14-text");
  const cache = createModelCache({ dir: resolve(".cache/bench"), log: (l) => console.error(l) });
  const opened: Awaited<ReturnType<typeof open>>[] = [];
  for (const v of VARIANTS) opened.push(await open(cache.ensure(spec, variantSpec(v))));
  const cases = [
    {
      name: "full 77 (last_hidden_state)",
      ids: promptIds(1, P, P),
      seq: P,
      fetch: ["last_hidden_state"],
    },
    { name: "pooled 8 tokens", ids: promptIds(1, 8, 8), seq: 8, fetch: ["pooled", "text_embeds"] },
  ];
  for (const c of cases) {
    const run = (i: number) =>
      opened[i].session.run(
        { input_ids: opened[i].session.tensor("int64", c.ids, [1, c.seq]) },
        c.fetch,
      );
    for (let i = 0; i < VARIANTS.length; i++) for (let w = 0; w < 2; w++) await run(i);
    const samples: number[][] = VARIANTS.map(() => []);
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [1, 0] : [0, 1];
      const t: number[] = [];
      for (const i of order) {
        const t0 = performance.now();
        await run(i);
        t[i] = performance.now() - t0;
        samples[i].push(t[i]);
      }
      ratios.push(t[1] / t[0]);
    }
    const [base, token] = samples.map(summarize);
    console.log(
      JSON.stringify({
        case: c.name,
        rounds,
        per_tensor_median_ms: +base.median_ms.toFixed(1),
        per_token_median_ms: +token.median_ms.toFixed(1),
        per_tensor_min_ms: +base.min_ms.toFixed(1),
        per_token_min_ms: +token.min_ms.toFixed(1),
        ratio_of_medians: +(token.median_ms / base.median_ms).toFixed(3),
        median_paired_ratio: +summarize(ratios).median_ms.toFixed(3),
      }),
    );
  }
  console.log(
    JSON.stringify({ create_ms: opened.map((o, i) => [VARIANTS[i], Math.round(o.createMs)]) }),
  );
  for (const o of opened) o.close();
}

await main(Number(process.argv[2]) || 15);
