import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpenedEncoder } from "../../../cli/commands/condition.ts";
import {
  type Conditioner,
  createConditioner,
} from "../../../conditioning/conditioner/conditioner.ts";
import { prepareBundle } from "../../../node/prepare/prepare-bundle.ts";
import { fixturePath } from "../../helpers/fixtures.ts";

/** Prepares fp32 text bundles of fixture models into a temp dir (never into the repo). */
export async function prepareFixtureBundles(
  models: string[],
  options: { attentionMask?: boolean; towers?: ("text" | "vision")[] } = {},
): Promise<{ dirs: Record<string, string>; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), "clip-edge-conditioning-"));
  const dirs: Record<string, string> = {};
  for (const model of models) {
    dirs[model] = join(root, model);
    await prepareBundle({
      from: fixturePath("models", model),
      out: dirs[model],
      quantization: "fp32",
      towers: options.towers ?? ["text"],
      skipReport: true,
      attentionMask: options.attentionMask,
      name: model,
    });
  }
  return { dirs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A conditioner over opened bundles, in the preset's encoder order. */
export function bundleConditioner(preset: string, ...opened: OpenedEncoder[]): Conditioner {
  return createConditioner({
    preset,
    encoders: opened.map((o) => o.binding),
    tensorFactory: opened[0].session.tensor,
  });
}
