/**
 * The resume state of an evaluation: an append-only JSON Lines file in the output folder.
 * Each finished item is one line written with a single `write` as soon as it is known, so
 * Ctrl-C or a crash loses at most the items in flight. The first line fingerprints the run
 * (scorer and model): a rerun with another model refuses the folder instead of mixing
 * results. A line torn by a crash (no newline) is cut off when the file is reopened.
 *
 * Lines: `{"type":"run", ...fingerprint}`, `{"type":"result","id","prompt","cosine"}`,
 * `{"type":"error","id","prompt","error"}`, and for the batch scorer
 * `{"type":"batch","batch_id","ids":[...]}` (a batch submitted; a rerun collects the batches
 * whose items are not all recorded instead of submitting them again).
 */
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export type Fingerprint = Record<string, string>;

export type ItemRecord =
  | { type: "result"; id: string; prompt: string; cosine: number }
  | { type: "error"; id: string; prompt: string; error: string };

export interface OpenBatch {
  batchId: string;
  ids: string[];
}

export interface EvalState {
  readonly path: string;
  /** The finished record of an item, if its prompt is still the same. */
  get(id: string, prompt: string): ItemRecord | undefined;
  record(entry: ItemRecord): void;
  /** Forgets the errors (they are recomputed): `--retry-errors`. */
  dropErrors(): number;
  /** Batches submitted by earlier runs, in order (batch scorer). */
  openBatches(): OpenBatch[];
  batchSubmitted(batchId: string, ids: string[]): void;
  /** Lines appended by this process (results and errors). */
  readonly appended: number;
  close(): void;
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * Opens (or creates) the state file. `restart` discards what is there.
 */
export function openEvalState(
  path: string,
  fingerprint: Fingerprint,
  options: { restart?: boolean } = {},
): EvalState {
  const items = new Map<string, ItemRecord>();
  const batches = new Map<string, string[]>();
  let fresh = options.restart === true || !existsSync(path);
  if (!fresh) {
    const text = readFileSync(path, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    // A crash mid-write leaves a partial last line: drop it before appending.
    if (end < Buffer.byteLength(text)) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
    const lines = text.slice(0, end).split("\n").filter(Boolean);
    if (lines.length === 0) fresh = true;
    lines.forEach((line, i) => {
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new ClipEdgeError(
          "malformed",
          `${path} line ${i + 1}: not valid JSON (remove the file or pass --restart)`,
          { cause: error },
        );
      }
      if (i === 0) {
        const { type, ...rest } = value;
        if (type !== "run" || !sameFingerprint(rest as Fingerprint, fingerprint)) {
          throw new ClipEdgeError(
            "invalid_input",
            `${path} holds the results of another run (${JSON.stringify(rest)}, this one is ${JSON.stringify(fingerprint)}); use another --out or pass --restart`,
          );
        }
        return;
      }
      if (value.type === "result" || value.type === "error") {
        items.set(value.id as string, value as unknown as ItemRecord);
      } else if (value.type === "batch") {
        batches.set(value.batch_id as string, value.ids as string[]);
      }
    });
  }
  const fd = openSync(path, fresh ? "w" : "a");
  let appended = 0;
  const append = (value: unknown) => writeSync(fd, `${JSON.stringify(value)}\n`);
  if (fresh) append({ type: "run", ...fingerprint });
  return {
    path,
    get(id, prompt) {
      const r = items.get(id);
      return r && r.prompt === prompt ? r : undefined;
    },
    record(entry) {
      append(entry);
      items.set(entry.id, entry);
      appended++;
    },
    dropErrors() {
      let n = 0;
      for (const [id, r] of items) {
        if (r.type === "error") {
          items.delete(id);
          n++;
        }
      }
      return n;
    },
    openBatches: () => [...batches].map(([batchId, ids]) => ({ batchId, ids })),
    batchSubmitted(batchId, ids) {
      append({ type: "batch", batch_id: batchId, ids });
      batches.set(batchId, ids);
    },
    get appended() {
      return appended;
    },
    close: () => closeSync(fd),
  };
}
