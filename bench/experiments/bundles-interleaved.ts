/**
 * Two prepared bundles' text graphs in one onnxruntime-web process, runs interleaved
 * (A B B A ...) so that load on a shared machine hits both alike: full 77 tokens
 * (last_hidden_state) and pooled at 8 tokens. Used for issue #11's latency check of a
 * guarded `--edge` bundle against the unguarded one of the same checkpoint.
 *
 *   tsx bench/experiments/bundles-interleaved.ts BUNDLE_A BUNDLE_B [rounds]
 */

import { openBundleGraphWeb } from "../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../node/runtime/load-bundle.ts";
import { summarize } from "../harness.ts";
import { promptIds } from "../scenarios/prompt-ids.ts";

const [a, b, roundsText] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: tsx bench/experiments/bundles-interleaved.ts BUNDLE_A BUNDLE_B [rounds]");
  process.exit(2);
}
const rounds = Number(roundsText ?? 12);
const sessions = [
  await openBundleGraphWeb(loadBundle(a), "text"),
  await openBundleGraphWeb(loadBundle(b), "text"),
];
const cases = [
  { label: "full 77", tokens: 77, fetch: "last_hidden_state" },
  { label: "pooled 8", tokens: 8, fetch: "text_embeds" },
] as const;
for (const { label, tokens, fetch } of cases) {
  const ids = promptIds(1, tokens, tokens);
  const times: number[][] = [[], []];
  for (let r = -2; r < rounds; r++) {
    for (const i of r % 2 ? [0, 1] : [1, 0]) {
      const s = sessions[i];
      const started = performance.now();
      await s.run({ input_ids: s.tensor("int64", ids, [1, tokens]) }, [fetch]);
      if (r >= 0) times[i].push(performance.now() - started);
    }
  }
  const [sa, sb] = times.map((t) => summarize(t));
  console.log(
    `${label}: A ${sa.median_ms.toFixed(1)} ms, B ${sb.median_ms.toFixed(1)} ms, B/A ${(sb.median_ms / sa.median_ms).toFixed(3)} (medians of ${rounds})`,
  );
}
