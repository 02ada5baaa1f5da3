import type { BenchContext, Scenario } from "../harness.ts";
import { quantTableOptions } from "../quant/quant-options.ts";
import { quantTable } from "../quant/quant-table.ts";

/**
 * Issue #11's int8 comparison table on the outlier-realistic synthetic checkpoint:
 * per-tensor, per-token, per-token + smoothing and the guarded plan, with accuracy on
 * held-out prompts, --edge size, fp32 Linears, interleaved latency and the workerd heap,
 * all from this one run. `npx tsx bench/quant/write-quant-table.ts` runs the same and
 * writes the table into bench/RESULTS.md and docs/prepare.md.
 */
export const scenario: Scenario = {
  name: "quant-accuracy",
  description:
    "int8 modes on the outlier proxy (CLIP-L dims): accuracy held-out, --edge size, fp32 Linears, latency full 77 / pooled 8, workerd heap",
  async run(ctx: BenchContext) {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const table = await quantTable(quantTableOptions(ctx.quick, log));
    for (const r of table.records) ctx.report(r);
    ctx.note(table.markdown);
  },
};
