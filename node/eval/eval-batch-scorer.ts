/**
 * Scores through a worker's OpenAI-compatible batch API (issue #16): the items become a
 * JSONL file of `/v1/score` requests, one image and its prompt a line
 * (`{custom_id, method: "POST", url: "/v1/score", body: {images: [{b64}], prompts: [p]}}`),
 * uploaded with `files.create` (purpose `batch`); `batches.create` starts it; `batches.retrieve`
 * is polled until the batch ends; the output and error files (`files.content`) give one
 * line per item, `{id, custom_id, response: {status_code, body}, error}`.
 *
 * The client is the `openai` SDK's (or anything of the same shape), passed in. Each submitted
 * batch id is written to the state before polling, so a run stopped while a batch is in
 * flight collects that batch on the next run instead of submitting its items again.
 */
import { readFileSync } from "node:fs";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { EvalItem } from "./eval-inputs.ts";
import type { EvalOutcome, EvalScorer } from "./eval-runner.ts";
import type { EvalState } from "./eval-state.ts";

export interface BatchInfo {
  id: string;
  status: string;
  output_file_id?: string | null;
  error_file_id?: string | null;
  request_counts?: { total: number; completed: number; failed: number } | null;
  errors?: unknown;
}

/** The part of the `openai` client this uses. */
export interface BatchClient {
  files: {
    create(params: { file: unknown; purpose: "batch" }): Promise<{ id: string }>;
    content(fileId: string): Promise<{ text(): Promise<string> }>;
  };
  batches: {
    create(params: {
      input_file_id: string;
      endpoint: string;
      completion_window: string;
    }): Promise<BatchInfo>;
    retrieve(batchId: string): Promise<BatchInfo>;
  };
}

export interface BatchScorerOptions {
  client: BatchClient;
  /** The SDK's `toFile(bytes, name)`, which wraps the JSONL for upload. */
  toFile: (data: Uint8Array, name: string) => Promise<unknown>;
  state: EvalState;
  model?: string;
  /** Lines a batch (default 1000). */
  batchLines?: number;
  /** Most bytes of one input file (default 64 MiB); a larger chunk becomes several batches. */
  maxFileBytes?: number;
  pollMs?: number;
  completionWindow?: string;
  readFile?: (file: string) => Uint8Array;
  sleep?: (ms: number) => Promise<void>;
  /** Called on each poll (status lines on stderr). */
  onPoll?: (batch: BatchInfo) => void;
}

const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);

interface OutputLine {
  custom_id?: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/** The outcome of one output/error line, or undefined for a line without a custom_id. */
export function outcomeOfBatchLine(line: OutputLine): EvalOutcome | undefined {
  const id = line.custom_id;
  if (typeof id !== "string") return undefined;
  if (line.error) {
    return { id, error: line.error.message ?? JSON.stringify(line.error) };
  }
  const status = line.response?.status_code;
  const body = line.response?.body as
    | { images?: { cosines?: number[] }[]; error?: { message?: string } }
    | undefined;
  const cosine = body?.images?.[0]?.cosines?.[0];
  if (status === 200 && typeof cosine === "number") return { id, cosine };
  return {
    id,
    error: `HTTP ${status}: ${body?.error?.message ?? JSON.stringify(body ?? null).slice(0, 500)}`,
  };
}

export function createBatchScorer(options: BatchScorerOptions): EvalScorer {
  const { client, state } = options;
  const readFile = options.readFile ?? ((file: string) => new Uint8Array(readFileSync(file)));
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const pollMs = options.pollMs ?? 2000;
  // Under the worker's default MAX_BATCH_FILE_BYTES (32 MiB), with room for the JSONL framing.
  const maxFileBytes = options.maxFileBytes ?? 30 * 1024 * 1024;

  const waitFor = async (batchId: string): Promise<BatchInfo> => {
    for (;;) {
      const batch = await client.batches.retrieve(batchId);
      options.onPoll?.(batch);
      if (TERMINAL.has(batch.status)) return batch;
      await sleep(pollMs);
    }
  };

  const collect = async (batch: BatchInfo): Promise<EvalOutcome[]> => {
    if (batch.status === "failed" && !batch.output_file_id && !batch.error_file_id) {
      throw new ClipEdgeError(
        "invalid_request",
        `batch ${batch.id} failed: ${JSON.stringify(batch.errors ?? null).slice(0, 1000)}`,
      );
    }
    const out: EvalOutcome[] = [];
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (!fileId) continue;
      const text = await (await client.files.content(fileId)).text();
      for (const [i, line] of text.split("\n").entries()) {
        if (line.trim() === "") continue;
        let parsed: OutputLine;
        try {
          parsed = JSON.parse(line);
        } catch (error) {
          throw new ClipEdgeError("malformed", `file ${fileId} line ${i + 1}: not valid JSON`, {
            cause: error,
          });
        }
        const outcome = outcomeOfBatchLine(parsed);
        if (outcome) out.push(outcome);
      }
    }
    return out;
  };

  const submit = async (items: EvalItem[], lines: string[]): Promise<EvalOutcome[]> => {
    const bytes = new TextEncoder().encode(lines.join(""));
    let file: { id: string };
    try {
      file = await client.files.create({
        file: await options.toFile(bytes, "clip-edge-eval.jsonl"),
        purpose: "batch",
      });
    } catch (error) {
      if ((error as { status?: number }).status === 404) {
        throw new ClipEdgeError(
          "not_found",
          "POST /v1/files answered 404: this worker has no batch API (use --via online)",
          { cause: error },
        );
      }
      throw error;
    }
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/score",
      completion_window: options.completionWindow ?? "24h",
    });
    state.batchSubmitted(
      batch.id,
      items.map((i) => i.id),
    );
    return collect(await waitFor(batch.id));
  };

  return {
    chunkSize: options.batchLines ?? 1000,
    async recover(st, items) {
      const out: EvalOutcome[] = [];
      for (const { batchId, ids } of st.openBatches()) {
        const waiting = ids.some((id) => {
          const item = items.get(id);
          return item !== undefined && !st.get(id, item.prompt);
        });
        if (waiting) out.push(...(await collect(await waitFor(batchId))));
      }
      return out;
    },
    async score(items) {
      const out: EvalOutcome[] = [];
      let group: EvalItem[] = [];
      let lines: string[] = [];
      let bytes = 0;
      for (const item of items) {
        let data: Uint8Array;
        try {
          data = readFile(item.file);
        } catch (error) {
          out.push({ id: item.id, error: `cannot read ${item.file}: ${(error as Error).message}` });
          continue;
        }
        const body: Record<string, unknown> = {
          images: [{ b64: Buffer.from(data).toString("base64") }],
          prompts: [item.prompt],
        };
        if (options.model) body.model = options.model;
        const line = `${JSON.stringify({ custom_id: item.id, method: "POST", url: "/v1/score", body })}\n`;
        if (group.length > 0 && bytes + line.length > maxFileBytes) {
          out.push(...(await submit(group, lines)));
          group = [];
          lines = [];
          bytes = 0;
        }
        group.push(item);
        lines.push(line);
        bytes += line.length;
      }
      if (group.length > 0) out.push(...(await submit(group, lines)));
      return out;
    },
  };
}
