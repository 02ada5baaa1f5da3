import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openEvalState } from "../../../node/eval/eval-state.ts";

let dir: string;
let path: string;
const run = { scorer: "local", model: "m" };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-state-"));
  path = join(dir, "state.jsonl");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("eval state", () => {
  it("appends one line per record; a reopened state knows them (matched on id and prompt)", () => {
    const a = openEvalState(path, run);
    a.record({ type: "result", id: "x", prompt: "p", cosine: 0.25 });
    a.record({ type: "error", id: "y", prompt: "q", error: "bad image" });
    a.batchSubmitted("batch_1", ["x", "y"]);
    expect(a.appended).toBe(2);
    a.close();
    expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(4);
    const b = openEvalState(path, run);
    expect(b.get("x", "p")).toEqual({ type: "result", id: "x", prompt: "p", cosine: 0.25 });
    expect(b.get("x", "another prompt")).toBeUndefined();
    expect(b.get("y", "q")?.type).toBe("error");
    expect(b.openBatches()).toEqual([{ batchId: "batch_1", ids: ["x", "y"] }]);
    expect(b.dropErrors()).toBe(1);
    expect(b.get("y", "q")).toBeUndefined();
    expect(b.appended).toBe(0);
    b.close();
  });

  it("a line torn by a crash is cut off, and the next append starts on a clean line", () => {
    const a = openEvalState(path, run);
    a.record({ type: "result", id: "x", prompt: "p", cosine: 0.5 });
    a.close();
    appendFileSync(path, '{"type":"result","id":"z","pro');
    const b = openEvalState(path, run);
    expect(b.get("z", "p")).toBeUndefined();
    b.record({ type: "result", id: "z", prompt: "p", cosine: 0.1 });
    b.close();
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(["run", "result", "result"]);
  });

  it("refuses a state written by another run unless restart; restart empties it", () => {
    openEvalState(path, run).close();
    expect(() => openEvalState(path, { scorer: "local", model: "other" })).toThrow(
      /holds the results of another run.*--restart/,
    );
    const s = openEvalState(path, { scorer: "local", model: "other" }, { restart: true });
    s.close();
    expect(JSON.parse(readFileSync(path, "utf8").trim())).toEqual({
      type: "run",
      scorer: "local",
      model: "other",
    });
  });
});
