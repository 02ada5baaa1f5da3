import { formatReport } from "../../node/prepare/quant-report.ts";
import { verifyBundle } from "../../node/prepare/verify-bundle.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `Usage: clip-edge verify --model BUNDLE_DIR --against HF_DIR [--json]

Rebuilds the fp32 graphs from the checkpoint and recomputes the quantisation report of the
bundle (per-token cosine of last_hidden_state, text_embeds / image_embeds cosine, max abs error),
and, for bundles prepared with the accuracy guard, the guard's numbers over its calibration set
(built-in prompts + the bundle's calibration.jsonl). Exits 1 when those miss the recorded targets.
`;

export const command: Command = {
  name: "verify",
  summary: "Recompute a bundle's quantisation report against the checkpoint",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs("verify", argv, {
      model: { type: "string" },
      against: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const result = await verifyBundle(
      requireOption("verify", "model", values.model),
      requireOption("verify", "against", values.against),
    );
    if (result.sourceMismatches.length > 0) {
      io.stderr.write(
        `warning: checkpoint files differ from the bundle's source: ${result.sourceMismatches.join(", ")}\n`,
      );
    }
    io.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `${formatReport(result.quantization, result.report)}\n`,
    );
    const g = result.guard;
    if (g) {
      if (!values.json) {
        io.stdout.write(
          `accuracy guard recomputed: worst token cosine ${g.tokenCosineMin.toFixed(6)}, mean ${g.tokenCosineMean.toFixed(6)}, worst embeds cosine ${g.embedsCosineMin.toFixed(6)}: ${g.met ? "targets met" : "targets NOT met"}\n`,
        );
      }
      if (!g.calibrationMatches) {
        io.stderr.write(
          "warning: the calibration set rebuilt here differs from the one prepare recorded (tokenizer or calibration.jsonl changed)\n",
        );
      }
      if (!g.met) return 1;
    }
    return 0;
  },
};
