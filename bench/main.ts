/**
 * `npm run bench` entry. Add a scenario: create `bench/scenarios/<name>.ts` exporting
 * `scenario: Scenario` (see bench/harness.ts) and append it to the list below.
 */
import { runBench, type Scenario } from "./harness.ts";
import { scenario as cacheHit } from "./scenarios/cache-hit.ts";
import { scenario as origin } from "./scenarios/origin.ts";
import { scenario as quantAccuracy } from "./scenarios/quant-accuracy.ts";
import { scenario as requestBreakdown } from "./scenarios/request-breakdown.ts";
import { scenario as textEncoder } from "./scenarios/text-encoder.ts";
import { scenario as tokenizer } from "./scenarios/tokenizer.ts";

export const scenarios: Scenario[] = [
  tokenizer,
  textEncoder,
  cacheHit,
  requestBreakdown,
  origin,
  quantAccuracy,
];

process.exitCode = await runBench(scenarios, process.argv.slice(2), process);
