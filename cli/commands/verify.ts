import { formatReport } from "../../node/prepare/quant-report.ts";
import { verifyBundle } from "../../node/prepare/verify-bundle.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `Usage: clip-edge verify --model BUNDLE_DIR --against HF_DIR [--json]

Rebuilds the fp32 graphs from the checkpoint and recomputes the quantisation report of the
bundle (per-token cosine of last_hidden_state, text_embeds / image_embeds cosine, max abs error).
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
    return 0;
  },
};
