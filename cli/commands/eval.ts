import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import sharp from "sharp";
import { createTextEmbedder } from "../../conditioning/conditioner/text-embedder.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { createBatchScorer } from "../../node/eval/eval-batch-scorer.ts";
import { type EvalItem, readFolder, readManifest } from "../../node/eval/eval-inputs.ts";
import { createLocalScorer } from "../../node/eval/eval-local-scorer.ts";
import { createOnlineScorer } from "../../node/eval/eval-online-scorer.ts";
import { writeEvalOutputs } from "../../node/eval/eval-outputs.ts";
import { type EvalScorer, runEval } from "../../node/eval/eval-runner.ts";
import { type EvalState, type Fingerprint, openEvalState } from "../../node/eval/eval-state.ts";
import { type SharpLike, thumbnailDataUri } from "../../node/eval/eval-thumbnails.ts";
import { createProgress } from "../../node/eval/progress.ts";
import { type CliIo, type Command, parseCommandArgs } from "../command.ts";
import { openTextEncoder } from "./condition.ts";
import { openImageFileEncoder } from "./image-files.ts";

const USAGE = `Usage: clip-edge eval (FOLDER | --manifest FILE) (--model BUNDLE | --url URL [--via batch|online])
    [--out DIR] [--restart] [--retry-errors] [--resamples N] [--seed S] [--top K]

CLIP score of generated images against the prompts they were made from (docs/eval.md).
FOLDER holds the images and a manifest, prompts.jsonl ({"file", "prompt"} a line) or
prompts.csv (header file,prompt), or a sidecar NAME.txt with each image's prompt.

Locally (--model): the bundle's vision and text graphs in this process, as 'clip-edge score'.
Against a worker (--url): the batch API (POST /v1/files, /v1/batches, with the openai SDK),
or --via online: POST /v1/score in chunks.

Writes to DIR (default FOLDER/clip-edge-eval): scores.jsonl, scores.csv, prompts.csv,
summary.json and report.html, and state.jsonl, where finished images are recorded as they
land: a rerun after Ctrl-C or a crash skips them. Prints the summary as one JSON line.

Options:
  --manifest FILE    a .jsonl or .csv manifest (paths relative to its folder)
  --model BUNDLE     bundle with text and vision graphs (local); with --url, the model id
  --url URL          worker base URL
  --via MODE         batch (default) or online
  --api-key KEY      bearer key for --url (default: CLIP_EDGE_API_KEY)
  --chunk N          images a request (online, default 16) or lines a batch (default 1000)
  --poll-ms MS       batch status polling interval (default 2000)
  --out DIR          output folder
  --restart          discard the folder's state and start over
  --retry-errors     score again the images that failed before
  --resamples N      bootstrap resamples (default 1000)
  --seed S           bootstrap seed (default 0)
  --top K            best and worst matches with thumbnails in the report (default 12)
`;

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?[0-9]+$/.test(value) || n < min) {
    throw new ClipEdgeError("usage", `eval: --${name} must be an integer >= ${min}, got ${value}`);
  }
  return n;
}

async function openLocalScorer(
  dir: string,
): Promise<{ scorer: EvalScorer; fingerprint: Fingerprint }> {
  const text = await openTextEncoder(dir);
  const { bundle } = text;
  try {
    if (!text.session.outputNames.includes("text_embeds")) {
      throw new ClipEdgeError(
        "unsupported",
        `eval: bundle ${dir} has no text projection (text_embeds)`,
      );
    }
    const vision = await openImageFileEncoder(bundle, "eval");
    if (vision.output !== "image_embeds") {
      await vision.release();
      throw new ClipEdgeError(
        "unsupported",
        `eval: bundle ${dir} has no visual projection (image_embeds)`,
      );
    }
    const embedder = createTextEmbedder({
      session: text.session,
      tokenizer: text.binding.tokenizer,
      tensorFactory: text.session.tensor,
      manifest: bundle.manifest,
    });
    const scorer = createLocalScorer({
      encodeImage: (file) => vision.encode(file),
      embedText: async (prompt) => (await embedder.embed([prompt])).embeddings.data.slice(),
      release: async () => {
        await vision.release();
        await text.session.release();
      },
    });
    const fingerprint = {
      scorer: "local",
      model: bundle.manifest.name,
      text_graph: text.binding.hash ?? "",
      vision_graph: bundle.graph("vision")?.sha256 ?? "",
    };
    return { scorer, fingerprint };
  } catch (error) {
    await text.session.release();
    throw error;
  }
}

async function openUrlScorer(
  values: Record<string, string | boolean | undefined>,
  state: EvalState,
  io: CliIo,
): Promise<EvalScorer> {
  const url = values.url as string;
  const model = values.model as string | undefined;
  const apiKey = (values["api-key"] as string | undefined) ?? process.env.CLIP_EDGE_API_KEY;
  const chunk = intOption("chunk", values.chunk as string | undefined, 1);
  if (values.via === "online") {
    return createOnlineScorer({ url, model, apiKey, chunkSize: chunk });
  }
  // The openai SDK is loaded only here: the other modes do not need it installed.
  let sdk: typeof import("openai");
  try {
    sdk = await import("openai");
  } catch (error) {
    throw new ClipEdgeError(
      "unavailable",
      "eval: --via batch needs the openai package (npm install openai), or use --via online",
      { cause: error },
    );
  }
  const { default: OpenAI, toFile } = sdk;
  const client = new OpenAI({ baseURL: `${url.replace(/\/+$/, "")}/v1`, apiKey: apiKey ?? "none" });
  let last = "";
  return createBatchScorer({
    client: client as never,
    toFile: (data, name) => toFile(data, name),
    state,
    model,
    batchLines: chunk,
    pollMs: intOption("poll-ms", values["poll-ms"] as string | undefined, 1),
    onPoll: (batch) => {
      const counts = batch.request_counts;
      const line = `batch ${batch.id}: ${batch.status}${counts ? ` ${counts.completed + counts.failed}/${counts.total}` : ""}`;
      if (line !== last) io.stderr.write(`${line}\n`);
      last = line;
    },
  });
}

export const command: Command = {
  name: "eval",
  summary: "CLIP score of a folder of generated images against their prompts, with a report",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      "eval",
      argv,
      {
        manifest: { type: "string" },
        model: { type: "string" },
        url: { type: "string" },
        via: { type: "string" },
        "api-key": { type: "string" },
        chunk: { type: "string" },
        "poll-ms": { type: "string" },
        out: { type: "string" },
        restart: { type: "boolean", default: false },
        "retry-errors": { type: "boolean", default: false },
        resamples: { type: "string" },
        seed: { type: "string" },
        top: { type: "string" },
      },
      true,
    );
    if (positionals.length > 1) {
      throw new ClipEdgeError("usage", `eval: one FOLDER, got ${positionals.join(" ")}`);
    }
    const folder = positionals[0];
    if ((folder === undefined) === (values.manifest === undefined)) {
      throw new ClipEdgeError("usage", "eval: give a FOLDER or --manifest FILE (one of them)");
    }
    if (!values.url && !values.model) {
      throw new ClipEdgeError("usage", "eval: give --model BUNDLE (local) or --url URL (a worker)");
    }
    if (values.via !== undefined && values.via !== "batch" && values.via !== "online") {
      throw new ClipEdgeError("usage", `eval: --via must be batch or online, got ${values.via}`);
    }
    if (values.via !== undefined && !values.url) {
      throw new ClipEdgeError("usage", "eval: --via needs --url");
    }
    const resamples = intOption("resamples", values.resamples, 1);
    const seed = intOption("seed", values.seed, 0);
    const top = intOption("top", values.top, 0);
    const items: EvalItem[] = folder ? readFolder(folder) : readManifest(values.manifest as string);
    const outDir = resolve(
      values.out ??
        join(
          folder ? resolve(folder) : dirname(resolve(values.manifest as string)),
          "clip-edge-eval",
        ),
    );
    mkdirSync(outDir, { recursive: true });

    const statePath = join(outDir, "state.jsonl");
    const restart = values.restart;
    let state: EvalState | undefined;
    let scorer: EvalScorer | undefined;
    let fingerprint: Fingerprint;
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      io.stderr.write("\neval: stopping after the images in flight (Ctrl-C again to quit now)\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    try {
      if (values.url) {
        fingerprint = { scorer: values.via ?? "batch", url: values.url, model: values.model ?? "" };
        state = openEvalState(statePath, fingerprint, { restart });
        scorer = await openUrlScorer(values, state, io);
      } else {
        ({ scorer, fingerprint } = await openLocalScorer(values.model as string));
        state = openEvalState(statePath, fingerprint, { restart });
      }
      if (values["retry-errors"]) state.dropErrors();
      const result = await runEval({
        items,
        state,
        scorer,
        signal: controller.signal,
        progress: (resumed) =>
          createProgress({ total: items.length, resumed, stream: io.stderr as never }),
      });
      io.stderr.write(
        `eval: ${result.computed} scored now, ${result.resumed} resumed from ${state.path}\n`,
      );
      if (result.interrupted) {
        io.stderr.write("eval: interrupted; run the same command again to resume\n");
        return 130;
      }
      const summary = await writeEvalOutputs({
        items,
        state,
        outDir,
        run: fingerprint,
        resamples,
        seed,
        top,
        thumbnail: (file) => thumbnailDataUri(sharp as unknown as SharpLike, file),
      });
      io.stdout.write(
        `${JSON.stringify({
          out: outDir,
          images: summary.images,
          scored: summary.scored,
          failed: summary.failed,
          pending: summary.pending,
          clip_score: summary.clip_score,
          interval: summary.interval && [summary.interval.low, summary.interval.high],
        })}\n`,
      );
      return summary.pending > 0 ? 1 : 0;
    } finally {
      process.off("SIGINT", onSigint);
      state?.close();
      await scorer?.release?.();
    }
  },
};
