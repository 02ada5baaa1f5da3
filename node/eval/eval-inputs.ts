/**
 * What `clip-edge eval` scores: image files paired with the prompt each was generated from.
 *
 * A folder holds its pairs in a manifest beside the images, `prompts.jsonl` (one object
 * `{"file": "0001.png", "prompt": "..."}` a line) or `prompts.csv` (header `file,prompt`);
 * without one, each image's prompt is the sidecar `<name>.txt` next to it. A manifest given
 * explicitly may live anywhere; its relative paths resolve against its own folder. `image`
 * is accepted for `file`, `caption` and `text` for `prompt`; an optional `id` names the item
 * (default: the file path as the manifest wrote it, `#2`, `#3`, ... on repeats).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import { parseCsv } from "./csv.ts";

export interface EvalItem {
  /** Stable key of the item: results and the resume state are keyed by it. */
  id: string;
  /** Absolute path of the image. */
  file: string;
  prompt: string;
}

export const MANIFEST_NAMES = ["prompts.jsonl", "prompts.csv"] as const;
const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff"]);
const FILE_KEYS = ["file", "image"];
const PROMPT_KEYS = ["prompt", "caption", "text"];

interface RawEntry {
  file: string;
  prompt: string;
  id?: string;
}

function pick(record: Record<string, unknown>, keys: string[]): unknown {
  for (const key of keys) if (record[key] !== undefined && record[key] !== "") return record[key];
  return undefined;
}

function entryOf(record: Record<string, unknown>, where: string): RawEntry {
  const file = pick(record, FILE_KEYS);
  const prompt = pick(record, PROMPT_KEYS);
  if (typeof file !== "string") {
    throw new ClipEdgeError("invalid_input", `${where}: no "file" (or "image") string`);
  }
  if (typeof prompt !== "string") {
    throw new ClipEdgeError(
      "invalid_input",
      `${where}: no "prompt" (or "caption", "text") string for ${file}`,
    );
  }
  const id = record.id;
  if (id !== undefined && id !== "" && typeof id !== "string" && typeof id !== "number") {
    throw new ClipEdgeError("invalid_input", `${where}: "id" must be a string or a number`);
  }
  return { file, prompt, id: id === undefined || id === "" ? undefined : String(id) };
}

function readJsonlManifest(path: string): RawEntry[] {
  const entries: RawEntry[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (text.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new ClipEdgeError("malformed", `${path} line ${i + 1}: not valid JSON`, {
          cause: error,
        });
      }
      if (!value || typeof value !== "object" || Array.isArray(value)) {
        throw new ClipEdgeError("invalid_input", `${path} line ${i + 1}: expected an object`);
      }
      entries.push(entryOf(value as Record<string, unknown>, `${path} line ${i + 1}`));
    });
  return entries;
}

function readCsvManifest(path: string): RawEntry[] {
  const [header, ...rows] = parseCsv(readFileSync(path, "utf8"), path);
  if (!header) throw new ClipEdgeError("invalid_input", `${path}: empty CSV (expected a header)`);
  const names = header.map((h) => h.trim().toLowerCase());
  return rows.map((row, i) => {
    if (row.length !== names.length) {
      throw new ClipEdgeError(
        "invalid_input",
        `${path} row ${i + 2}: ${row.length} fields, the header has ${names.length}`,
      );
    }
    const record: Record<string, unknown> = {};
    names.forEach((name, k) => {
      record[name] = row[k];
    });
    return entryOf(record, `${path} row ${i + 2}`);
  });
}

/** Reads a manifest (`.jsonl`/`.ndjson` or `.csv`) into items. */
export function readManifest(path: string): EvalItem[] {
  const full = resolve(path);
  if (!existsSync(full)) throw new ClipEdgeError("not_found", `manifest ${path} does not exist`);
  const ext = extname(full).toLowerCase();
  let entries: RawEntry[];
  if (ext === ".jsonl" || ext === ".ndjson") entries = readJsonlManifest(full);
  else if (ext === ".csv") entries = readCsvManifest(full);
  else {
    throw new ClipEdgeError(
      "invalid_input",
      `manifest ${path}: expected a .jsonl or .csv file, got "${ext || "no extension"}"`,
    );
  }
  return toItems(entries, dirname(full), path);
}

function sidecarEntries(dir: string): RawEntry[] {
  const names = readdirSync(dir).sort();
  const images = names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
  if (images.length === 0) {
    throw new ClipEdgeError(
      "not_found",
      `${dir}: no images and no manifest (${MANIFEST_NAMES.join(" or ")})`,
    );
  }
  return images.map((name) => {
    const txt = join(dir, `${name.slice(0, -extname(name).length)}.txt`);
    if (!existsSync(txt)) {
      throw new ClipEdgeError(
        "invalid_input",
        `${dir}: ${name} has no prompt: add ${MANIFEST_NAMES.join(" or ")}, or a sidecar ${txt}`,
      );
    }
    return { file: name, prompt: readFileSync(txt, "utf8").trim() };
  });
}

/** The items of a folder: its manifest, or the sidecar `.txt` prompts of its images. */
export function readFolder(dir: string): EvalItem[] {
  const full = resolve(dir);
  if (!existsSync(full) || !statSync(full).isDirectory()) {
    throw new ClipEdgeError("not_found", `${dir} is not a folder`);
  }
  for (const name of MANIFEST_NAMES) {
    if (existsSync(join(full, name))) return readManifest(join(full, name));
  }
  return toItems(sidecarEntries(full), full, dir);
}

function toItems(entries: RawEntry[], base: string, label: string): EvalItem[] {
  if (entries.length === 0) throw new ClipEdgeError("invalid_input", `${label}: no entries`);
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  return entries.map((entry) => {
    let id = entry.id;
    if (id === undefined) {
      const n = (seen.get(entry.file) ?? 0) + 1;
      seen.set(entry.file, n);
      id = n === 1 ? entry.file : `${entry.file}#${n}`;
    }
    if (ids.has(id)) throw new ClipEdgeError("invalid_input", `${label}: duplicate id ${id}`);
    ids.add(id);
    return { id, file: resolve(base, entry.file), prompt: entry.prompt };
  });
}
