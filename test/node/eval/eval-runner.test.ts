import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EvalItem } from "../../../node/eval/eval-inputs.ts";
import { type EvalScorer, runEval } from "../../../node/eval/eval-runner.ts";
import { openEvalState } from "../../../node/eval/eval-state.ts";
import { createProgress, formatDuration } from "../../../node/eval/progress.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-runner-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const items: EvalItem[] = Array.from({ length: 23 }, (_, i) => ({
  id: `img${i}`,
  file: `/nowhere/img${i}.png`,
  prompt: `prompt ${i % 4}`,
}));

/** A scorer that counts what it computes; `abortAfter` aborts the controller after so many items. */
function countingScorer(calls: string[], onItem?: (n: number) => void): EvalScorer {
  return {
    chunkSize: 3,
    async score(chunk) {
      return chunk.map((item) => {
        calls.push(item.id);
        onItem?.(calls.length);
        return item.id === "img7"
          ? { id: item.id, error: "cannot decode" }
          : { id: item.id, cosine: Number(item.id.slice(3)) / 100 };
      });
    },
  };
}

describe("runEval", () => {
  it("stops between chunks on abort; a rerun computes only the rest, and no item twice", async () => {
    const path = join(dir, "state.jsonl");
    const calls: string[] = [];
    const controller = new AbortController();
    const first = openEvalState(path, { scorer: "fake" });
    const r1 = await runEval({
      items,
      state: first,
      scorer: countingScorer(calls, (n) => n === 7 && controller.abort()),
      signal: controller.signal,
    });
    first.close();
    expect(r1).toEqual({ resumed: 0, computed: 9, interrupted: true });
    const second = openEvalState(path, { scorer: "fake" });
    const r2 = await runEval({ items, state: second, scorer: countingScorer(calls) });
    expect(r2).toEqual({ resumed: 9, computed: 14, interrupted: false });
    expect([...calls].sort()).toEqual(items.map((i) => i.id).sort());
    expect(second.get("img7", "prompt 3")).toMatchObject({ type: "error", error: "cannot decode" });
    expect(second.get("img22", "prompt 2")).toMatchObject({ cosine: 0.22 });
    second.close();
    const lines = readFileSync(path, "utf8").trim().split("\n").slice(1);
    expect(lines).toHaveLength(items.length);
    // A changed prompt makes that item pending again.
    const third = openEvalState(path, { scorer: "fake" });
    const changed = items.map((i) => (i.id === "img3" ? { ...i, prompt: "new" } : i));
    const again: string[] = [];
    expect(await runEval({ items: changed, state: third, scorer: countingScorer(again) })).toEqual({
      resumed: 22,
      computed: 1,
      interrupted: false,
    });
    expect(again).toEqual(["img3"]);
    third.close();
  });

  it("progress: plain lines with rate and ETA off a TTY; a redrawn bar on a TTY", () => {
    let t = 0;
    const plain = new PassThrough();
    let text = "";
    plain.on("data", (c) => {
      text += c;
    });
    const p = createProgress({
      total: 100,
      resumed: 20,
      stream: plain,
      now: () => t,
      intervalMs: 1000,
    });
    t = 500;
    p.tick(5); // within the interval: no line
    t = 2000;
    p.tick(5);
    p.finish();
    const lines = text.trim().split("\n");
    expect(lines[0]).toBe("eval: 20/100 20.0% 0.0 img/s ETA --:-- (20 resumed)");
    expect(lines[1]).toBe("eval: 30/100 30.0% 5.0 img/s ETA 0:14 (20 resumed)");
    expect(lines).toHaveLength(3);
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    let drawn = "";
    tty.on("data", (c) => {
      drawn += c;
    });
    t = 0;
    const bar = createProgress({ total: 10, resumed: 0, stream: tty, now: () => t });
    t = 1000;
    bar.tick(5);
    bar.finish();
    expect(drawn.startsWith("\reval [")).toBe(true);
    expect(drawn).toContain("5/10 50.0% 5.0 img/s ETA 0:01");
    expect(drawn.endsWith("\n")).toBe(true);
    expect(formatDuration(3725)).toBe("1:02:05");
  });
});
