import { createTextEmbedder } from "../../conditioning/conditioner/text-embedder.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { clipScore, clipScoreAggregate } from "../../conditioning/scoring/clip-score.ts";
import { cosineSimilarity } from "../../conditioning/scoring/normalize.ts";
import { rankPrompts } from "../../conditioning/scoring/ranking.ts";
import { zeroShotClassify } from "../../conditioning/scoring/zero-shot.ts";
import { type Command, parseCommandArgs, requireOption } from "../command.ts";
import { openTextEncoder } from "./condition.ts";
import { openImageFileEncoder } from "./image-files.ts";

const USAGE = `Usage: clip-edge score --model BUNDLE --image FILE... (--prompt TEXT... | --label NAME... [--template T...])

CLIP score of every image against every prompt: one JSON line per image with, per prompt,
the cosine, the CLIP score 100 * max(cos, 0) and the ranking probability
softmax(exp(logit_scale) * cos) over the prompts. When images and prompts pair up
one-to-one (same count), a last line gives torchmetrics' CLIPScore aggregate
max(mean(100 * cos), 0). With --label, zero-shot classification over the labels using the
templates (default "a photo of a {}.").

Options:
  --model DIR      bundle with text and vision graphs
  --image FILE     image file (repeat; files after the options count as images too)
  --prompt TEXT    candidate prompt (repeat)
  --label NAME     zero-shot label (repeat)
  --template T     zero-shot template with {} (repeat)
`;

export const command: Command = {
  name: "score",
  summary: "CLIP score / ranking / zero-shot of images against prompts",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      "score",
      argv,
      {
        model: { type: "string" },
        image: { type: "string", multiple: true },
        prompt: { type: "string", multiple: true },
        label: { type: "string", multiple: true },
        template: { type: "string", multiple: true },
      },
      true,
    );
    const dir = requireOption("score", "model", values.model);
    // `--image a.png b.png` (as the usage line reads) and `--image a.png --image b.png` alike.
    const images = [...(values.image ?? []), ...positionals];
    const prompts = values.prompt ?? [];
    const labels = values.label ?? [];
    if (images.length === 0) throw new ClipEdgeError("usage", "score: give at least one --image");
    if (prompts.length === 0 && labels.length === 0) {
      throw new ClipEdgeError("usage", "score: give at least one --prompt or --label");
    }
    const text = await openTextEncoder(dir);
    const { bundle } = text;
    const logitScale = bundle.manifest.architecture.logitScale ?? Math.log(100);
    try {
      if (!text.session.outputNames.includes("text_embeds")) {
        throw new ClipEdgeError(
          "unsupported",
          `score: bundle ${dir} has no text projection (text_embeds)`,
        );
      }
      const vision = await openImageFileEncoder(bundle, "score");
      const imageEmbeds: Float32Array[] = [];
      try {
        if (vision.output !== "image_embeds") {
          throw new ClipEdgeError(
            "unsupported",
            `score: bundle ${dir} has no visual projection (image_embeds)`,
          );
        }
        for (const file of images) imageEmbeds.push(await vision.encode(file));
      } finally {
        await vision.release();
      }
      const embedder = createTextEmbedder({
        session: text.session,
        tokenizer: text.binding.tokenizer,
        tensorFactory: text.session.tensor,
        manifest: bundle.manifest,
      });
      const embedTexts = async (texts: string[]) => {
        const r = await embedder.embed(texts);
        const dim = r.embeddings.shape[1];
        return texts.map((_, i) => r.embeddings.data.subarray(i * dim, (i + 1) * dim));
      };
      if (labels.length > 0) {
        for (let i = 0; i < images.length; i++) {
          const result = await zeroShotClassify(imageEmbeds[i], labels, embedTexts, {
            templates: values.template,
            logitScale,
          });
          io.stdout.write(
            `${JSON.stringify({ file: images[i], labels: result.map((r) => ({ label: r.label, cosine: r.cosine, probability: r.probability })) })}\n`,
          );
        }
        return 0;
      }
      const textEmbeds = await embedTexts(prompts);
      for (let i = 0; i < images.length; i++) {
        const ranked = rankPrompts(imageEmbeds[i], textEmbeds, logitScale);
        io.stdout.write(
          `${JSON.stringify({
            file: images[i],
            scores: ranked.map((r) => ({
              prompt: prompts[r.index],
              cosine: r.cosine,
              clip_score: clipScore(imageEmbeds[i], textEmbeds[r.index]),
              probability: r.probability,
            })),
          })}\n`,
        );
      }
      if (images.length === prompts.length) {
        const aggregate = clipScoreAggregate(
          images.map((_, i) => ({ imageEmbeds: imageEmbeds[i], textEmbeds: textEmbeds[i] })),
        );
        const pairs = images.map((file, i) => ({
          file,
          prompt: prompts[i],
          cosine: cosineSimilarity(imageEmbeds[i], textEmbeds[i]),
        }));
        io.stdout.write(`${JSON.stringify({ clip_score_aggregate: aggregate, pairs })}\n`);
      }
      return 0;
    } finally {
      await text.session.release();
    }
  },
};
