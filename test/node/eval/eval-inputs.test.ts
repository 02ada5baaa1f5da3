import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import { csvLine, parseCsv } from "../../../node/eval/csv.ts";
import { readFolder, readManifest } from "../../../node/eval/eval-inputs.ts";

function expectErrorCode(fn: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ClipEdgeError);
  expect((caught as ClipEdgeError).code).toBe(code);
  if (message) expect((caught as ClipEdgeError).message).toMatch(message);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-inputs-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("eval inputs", () => {
  it("reads prompts.jsonl beside the images; paths resolve against the manifest's folder", () => {
    writeFileSync(
      join(dir, "prompts.jsonl"),
      '{"file":"a.png","prompt":"a cat"}\n\n{"image":"sub/b.png","caption":"a dog","id":7}\n',
    );
    expect(readFolder(dir)).toEqual([
      { id: "a.png", file: join(dir, "a.png"), prompt: "a cat" },
      { id: "7", file: join(dir, "sub", "b.png"), prompt: "a dog" },
    ]);
  });

  it("reads prompts.csv with quoted fields, commas, quotes and newlines; repeats get #n ids", () => {
    const csv = `${csvLine(["File", "Prompt"])}${csvLine(["a.png", 'a "red", big\ncat'])}${csvLine(["a.png", "again"])}`;
    writeFileSync(join(dir, "prompts.csv"), csv);
    const items = readFolder(dir);
    expect(items.map((i) => [i.id, i.prompt])).toEqual([
      ["a.png", 'a "red", big\ncat'],
      ["a.png#2", "again"],
    ]);
    expect(parseCsv('x,y\r\n"1",2\r\n', "t")).toEqual([
      ["x", "y"],
      ["1", "2"],
    ]);
  });

  it("without a manifest, each image's sidecar .txt is its prompt; a missing one is named", () => {
    writeFileSync(join(dir, "b.jpg"), "");
    writeFileSync(join(dir, "b.txt"), "  a bird \n");
    writeFileSync(join(dir, "a.png"), "");
    writeFileSync(join(dir, "a.txt"), "an apple");
    writeFileSync(join(dir, "notes.md"), "not an image");
    expect(readFolder(dir).map((i) => [i.id, i.prompt])).toEqual([
      ["a.png", "an apple"],
      ["b.jpg", "a bird"],
    ]);
    writeFileSync(join(dir, "c.webp"), "");
    expect(() => readFolder(dir)).toThrow(/c\.webp has no prompt/);
  });

  it("a manifest passed explicitly; errors name the file and line", () => {
    mkdirSync(join(dir, "m"));
    const path = join(dir, "m", "list.jsonl");
    writeFileSync(path, '{"file":"../x.png","text":"t"}\n');
    expect(readManifest(path)).toEqual([{ id: "../x.png", file: join(dir, "x.png"), prompt: "t" }]);
    writeFileSync(path, '{"file":"x.png"}\n');
    expectErrorCode(() => readManifest(path), "invalid_input", /list\.jsonl line 1: no "prompt"/);
    writeFileSync(path, "{oops\n");
    expectErrorCode(() => readManifest(path), "malformed", /line 1: not valid JSON/);
    writeFileSync(path, '{"id":"k","file":"a","prompt":"p"}\n{"id":"k","file":"b","prompt":"q"}\n');
    expectErrorCode(() => readManifest(path), "invalid_input", /duplicate id k/);
    const csv = join(dir, "m", "list.csv");
    writeFileSync(csv, "file,prompt\na.png\n");
    expectErrorCode(() => readManifest(csv), "invalid_input", /row 2: 1 fields, the header has 2/);
    expectErrorCode(() => readManifest(join(dir, "m", "list.txt")), "not_found");
    writeFileSync(join(dir, "m", "list.txt"), "");
    expectErrorCode(
      () => readManifest(join(dir, "m", "list.txt")),
      "invalid_input",
      /\.jsonl or \.csv/,
    );
    expectErrorCode(() => readFolder(join(dir, "m")), "not_found", /no images and no manifest/);
  });
});
