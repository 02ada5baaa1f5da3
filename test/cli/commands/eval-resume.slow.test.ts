/**
 * `clip-edge eval` on a generated set of 520 images (resized and cropped fixture variants),
 * locally, as a user runs it: the CLI process is killed (SIGKILL, a crash) after some
 * images, then interrupted (SIGINT, Ctrl-C) further on, then run to the end. No image is
 * scored twice (the state file is append-only: a recomputed image would add a second line,
 * and each run reports how many it scored), and the results equal an uninterrupted run's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareFixtureBundles } from "../../conditioning/conditioner/bundles.ts";
import { runCli } from "../../helpers/cli-io.ts";
import { repoRoot } from "../../helpers/fixtures.ts";
import { writeGeneratedSet } from "../../node/eval/generated-set.ts";

const COUNT = 520;
let bundle: string;
let cleanup: () => void;
let dir: string;
let images: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const prepared = await prepareFixtureBundles(["tiny-openai"], { towers: ["text", "vision"] });
  bundle = prepared.dirs["tiny-openai"];
  cleanup = prepared.cleanup;
  dir = mkdtempSync(join(tmpdir(), "clip-edge-eval-resume-"));
  images = join(dir, "images");
  mkdirSync(images);
  await writeGeneratedSet(images, COUNT);
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  cleanup?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const resultLines = (state: string) =>
  existsSync(state)
    ? readFileSync(state, "utf8")
        .split("\n")
        .slice(0, -1) // complete lines only: a kill may tear the last one
        .filter((l) => l.startsWith('{"type":"result"'))
    : [];

/** Spawns the CLI; when the state holds `after` results, sends `signal`. Resolves on exit. */
function runUntil(args: string[], state: string, after: number, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [join(repoRoot, "cli/bin.mjs"), ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let err = "";
  child.stderr?.on("data", (c) => {
    err += c;
  });
  let sent = false;
  const timer = setInterval(() => {
    if (!sent && resultLines(state).length >= after) {
      sent = true;
      child.kill(signal);
    }
  }, 20);
  return new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    err: string;
    killedAt: number;
  }>((resolve) => {
    child.on("exit", (code, sig) => {
      clearInterval(timer);
      resolve({ code, signal: sig, err, killedAt: resultLines(state).length });
    });
  });
}

describe("clip-edge eval resumes after a crash and after Ctrl-C", () => {
  it(`${COUNT} generated images: killed, interrupted, finished; nothing scored twice; same results`, async () => {
    const reference = join(dir, "reference");
    const whole = await runCli(["eval", images, "--model", bundle, "--out", reference]);
    expect(whole.code).toBe(0);
    expect(whole.err).toContain(`eval: ${COUNT} scored now, 0 resumed`);

    const out = join(dir, "resumed");
    const state = join(out, "state.jsonl");
    const args = ["eval", images, "--model", bundle, "--out", out];
    const crashed = await runUntil(args, state, 60, "SIGKILL");
    expect(crashed.signal).toBe("SIGKILL");
    const afterCrash = crashed.killedAt;
    expect(afterCrash).toBeGreaterThanOrEqual(60);
    expect(afterCrash).toBeLessThan(COUNT);

    const interrupted = await runUntil(args, state, afterCrash + 150, "SIGINT");
    expect(interrupted.code).toBe(130);
    expect(interrupted.err).toContain("run the same command again to resume");
    const scored2 = Number(/eval: (\d+) scored now, (\d+) resumed/.exec(interrupted.err)?.[1]);
    expect(interrupted.err).toContain(`scored now, ${afterCrash} resumed`);
    expect(interrupted.err).toContain(`(${afterCrash} resumed)`); // the progress line
    const afterInterrupt = interrupted.killedAt;
    expect(afterInterrupt).toBe(afterCrash + scored2);
    expect(afterInterrupt).toBeLessThan(COUNT);

    const finished = await runCli(args);
    expect(finished.code).toBe(0);
    expect(finished.err).toContain(
      `eval: ${COUNT - afterInterrupt} scored now, ${afterInterrupt} resumed`,
    );

    const lines = resultLines(state).map((l) => JSON.parse(l).id as string);
    expect(lines).toHaveLength(COUNT);
    expect(new Set(lines).size).toBe(COUNT);
    expect(readFileSync(join(out, "scores.jsonl"), "utf8")).toBe(
      readFileSync(join(reference, "scores.jsonl"), "utf8"),
    );
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const summaryRef = JSON.parse(readFileSync(join(reference, "summary.json"), "utf8"));
    expect(summary.clip_score).toBe(summaryRef.clip_score);
    expect(summary.interval).toEqual(summaryRef.interval);

    // The report: a row per image and the aggregate.
    const html = readFileSync(join(out, "report.html"), "utf8");
    const ids = readFileSync(join(out, "scores.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).id as string);
    expect(ids).toHaveLength(COUNT);
    for (const id of ids) expect(html).toContain(`<tr data-id="${id}">`);
    expect(html.match(/<tr data-id=/g)).toHaveLength(COUNT);
    expect(html).toContain(`data-value="${summary.clip_score}"`);
    expect(html).toContain(`<span id="count">${COUNT}</span>`);
  });
});
