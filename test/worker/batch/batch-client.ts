/**
 * The batch suites' side of the wire: the official OpenAI SDK (npm `openai`) pointed at a
 * running worker (`npm start`), input files built from the fixture prompts, polling a batch
 * to its end, and reading output files as lines.
 */
import { readFileSync } from "node:fs";
import OpenAI, { toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { fixturePath } from "../../helpers/fixtures.ts";

export const API_KEY = "batch-suite-key-0123456789";

export interface OutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

export interface InputLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

export function sdkClient(url: string): OpenAI {
  return new OpenAI({ apiKey: API_KEY, baseURL: `${url}/v1`, maxRetries: 0, timeout: 120_000 });
}

/** `count` distinct texts from the tiny model's golden prompts. */
export function fixtureTexts(count: number): string[] {
  const golden = JSON.parse(
    readFileSync(fixturePath("models", "tiny-openai", "golden.json"), "utf8"),
  ) as { prompts: { text: string }[] };
  return Array.from({ length: count }, (_, i) => {
    const prompt = golden.prompts[i % golden.prompts.length].text.trim();
    return `${prompt} (variant ${i})`;
  });
}

export const toJsonl = (lines: readonly (InputLine | string)[]) =>
  lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n");

export async function upload(client: OpenAI, jsonl: string, name = "input.jsonl") {
  return client.files.create({
    file: await toFile(Buffer.from(jsonl), name),
    purpose: "batch",
  });
}

/** Polls batches.retrieve until the batch ends (completed, failed, expired or cancelled). */
export async function waitForEnd(client: OpenAI, id: string, ms = 240_000): Promise<Batch> {
  const deadline = Date.now() + ms;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (["completed", "failed", "expired", "cancelled"].includes(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** files.content as parsed JSONL lines (none for a null id). */
export async function fileLines(client: OpenAI, id: string | null | undefined) {
  if (!id) return [] as OutputLine[];
  const text = await (await client.files.content(id)).text();
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as OutputLine);
}

/** How often each custom_id occurs. */
export function countIds(lines: readonly OutputLine[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const line of lines) counts.set(line.custom_id, (counts.get(line.custom_id) ?? 0) + 1);
  return counts;
}

/** The file's line number of an output line (its id ends in `_<line>`). */
export const lineOf = (line: OutputLine) => Number(line.id.slice(line.id.lastIndexOf("_") + 1));
