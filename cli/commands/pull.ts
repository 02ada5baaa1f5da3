import { resolve } from "node:path";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { createHubClient, type FetchLike } from "../../node/hub/hub-client.ts";
import { pickEndpoint, pickToken } from "../../node/hub/hub-url.ts";
import { createProgressReporter } from "../../node/hub/progress.ts";
import { pullModel } from "../../node/hub/pull-model.ts";
import { type CliIo, type Command, parseCommandArgs, requireOption } from "../command.ts";

const USAGE = `Usage: clip-edge pull <repo-id> --out DIR [options]

Downloads a CLIP checkpoint in Hugging Face layout (config.json, model.safetensors or its
shards, tokenizer files) from the hub's resolve/<revision>/<path> URLs into DIR.

Options:
  --out DIR          destination folder (required)
  --revision REV     branch, tag or commit (default: main)
  --subfolder DIR    e.g. text_encoder or text_encoder_2 of a Stable Diffusion repo
                     (tokenizer files then come from tokenizer/ or tokenizer_2/)
  --endpoint URL     hub endpoint (default: $HF_ENDPOINT or https://huggingface.co)
  --quiet            no progress output

Environment: HF_TOKEN (gated or private repos), HF_ENDPOINT.
Downloads resume from DIR/FILE.incomplete; LFS files are checked against their SHA-256.`;

export interface PullCommandOptions {
  env: Record<string, string | undefined>;
  fetch: FetchLike;
}

export function createPullCommand(deps: PullCommandOptions): Command {
  return {
    name: "pull",
    summary: "Download a Hugging Face CLIP checkpoint (safetensors + tokenizer) into a folder",
    usage: USAGE,
    async run(argv: string[], io: CliIo) {
      const { values, positionals } = parseCommandArgs(
        "pull",
        argv,
        {
          out: { type: "string" },
          revision: { type: "string" },
          subfolder: { type: "string" },
          endpoint: { type: "string" },
          quiet: { type: "boolean" },
        },
        true,
      );
      if (positionals.length !== 1) {
        throw new ClipEdgeError(
          "usage",
          `pull: expected one repo id (e.g. openai/clip-vit-large-patch14), got ${positionals.length}`,
        );
      }
      const out = resolve(requireOption("pull", "out", values.out));
      const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
      const reporter = createProgressReporter({
        stream: io.stderr,
        tty: stderr.isTTY === true,
        width: stderr.columns,
        quiet: values.quiet,
      });
      const client = createHubClient({
        endpoint: pickEndpoint(values.endpoint, deps.env),
        token: pickToken(deps.env),
        fetch: deps.fetch,
        onProgress: reporter.onProgress,
      });
      const result = await pullModel({
        client,
        repo: positionals[0],
        revision: values.revision,
        subfolder: values.subfolder,
        outDir: out,
        onEvent: reporter.onEvent,
      });
      const fetched = result.files.filter((file) => !file.skipped).length;
      io.stdout.write(
        `${JSON.stringify({ out, repo: result.repo, revision: result.revision, commit: result.commit ?? null, files: result.files.length, downloaded: fetched })}\n`,
      );
      return 0;
    },
  };
}

export const command: Command = createPullCommand({
  env: process.env,
  fetch: (input, init) => fetch(input, init),
});
