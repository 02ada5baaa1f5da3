/**
 * Child process of the quant-accuracy scenario: several `--edge`-shaped bundles of the
 * same checkpoint (one stage per layer + head, external data, token table outside,
 * rows read by range on every run) loaded side by side in one onnxruntime-web
 * process (WASM, 1 thread), runs interleaved in a rotating order so that load on a
 * shared machine hits every row alike. Prints one JSON line per model and case:
 * {variant, case, median_ms, p95_ms, runs}.
 *
 * Run as: node --import tsx bench/quant/edge-latency-child.ts '<json>'
 */
import { openSync, readSync } from "node:fs";
import { createTokenEmbeddingRows } from "../../conditioning/encoder/token-embedding-rows.ts";
import { withTokenEmbeds } from "../../conditioning/encoder/token-embeds-session.ts";
import { summarize } from "../harness.ts";
import { loadSession } from "../scenarios/bench-runtimes.ts";
import { promptIds } from "../scenarios/prompt-ids.ts";
import { round } from "../scenarios/stats.ts";
import type { PreparedModel } from "../synthetic/model-cache.ts";
import { filePath } from "../synthetic/model-cache.ts";

export interface EdgeLatencyArgs {
  prepared: PreparedModel[];
  rounds: number;
  maxPositions: number;
  /** Tokens of the pooled case (EOT-truncated run, text_embeds). */
  pooledTokens: number;
}

async function open(prepared: PreparedModel) {
  const loaded = await loadSession("wasm-node", prepared);
  loaded.dropBytes();
  const table = prepared.embeddings;
  if (!table) return loaded.session;
  // Open for the life of the process.
  const fd = openSync(filePath(prepared, table.file), "r");
  return withTokenEmbeds(
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
}

async function main(args: EdgeLatencyArgs) {
  const sessions = [];
  for (const p of args.prepared) sessions.push(await open(p));
  const P = args.maxPositions;
  const cases = [
    { label: "full", tokens: P, fetch: "last_hidden_state" },
    { label: "pooled", tokens: args.pooledTokens, fetch: "text_embeds" },
  ];
  for (const c of cases) {
    const ids = promptIds(1, c.tokens, c.tokens);
    const times: number[][] = sessions.map(() => []);
    // Two untimed rounds first (V8 tiers the WASM code up), then rotate who goes first.
    for (let r = -2; r < args.rounds; r++) {
      const start = ((r % sessions.length) + sessions.length) % sessions.length;
      for (let j = 0; j < sessions.length; j++) {
        const i = (start + j) % sessions.length;
        const s = sessions[i];
        const t0 = performance.now();
        await s.run({ input_ids: s.tensor("int64", ids, [1, c.tokens]) }, [c.fetch]);
        if (r >= 0) times[i].push(performance.now() - t0);
      }
    }
    for (const [i, t] of times.entries()) {
      const s = summarize(t);
      process.stdout.write(
        `${JSON.stringify({
          variant: args.prepared[i].variant,
          case: c.label,
          tokens: c.tokens,
          median_ms: round(s.median_ms),
          p95_ms: round(s.p95_ms),
          runs: s.runs,
        })}\n`,
      );
    }
  }
  for (const s of sessions) await s.release();
}

main(JSON.parse(process.argv[2]) as EdgeLatencyArgs).catch((error) => {
  process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
  process.exit(1);
});
