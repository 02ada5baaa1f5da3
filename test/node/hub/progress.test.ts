import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgressReporter, formatBytes } from "../../../node/hub/progress.ts";

function sink() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk) => {
    text += chunk;
  });
  return { stream, text: () => text };
}

describe("progress reporter", () => {
  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(14504164)).toBe("13.8 MiB");
    expect(formatBytes(1.7 * 1024 ** 3)).toBe("1.7 GiB");
  });

  it("redraws one bar in place on a TTY and ends the line when the file is done", () => {
    const out = sink();
    let t = 0;
    const r = createProgressReporter({ stream: out.stream, tty: true, width: 80, now: () => t });
    r.onEvent({ type: "start", path: "model.safetensors", size: 1000, resumeFrom: 0 });
    r.onProgress({ path: "model.safetensors", received: 500, total: 1000 });
    t = 50;
    r.onProgress({ path: "model.safetensors", received: 600, total: 1000 }); // throttled
    t = 200;
    r.onProgress({ path: "model.safetensors", received: 1000, total: 1000 });
    r.onEvent({ type: "done", path: "model.safetensors", size: 1000 });
    const text = out.text();
    expect(text).toContain(" 50% 500 B/1000 B model.safetensors");
    expect(text).not.toContain(" 60%");
    expect(text).toContain("100% ");
    expect(text.endsWith("\r\x1b[Kmodel.safetensors: done (1000 B)\n")).toBe(true);
  });

  it("prints plain lines without control characters when not a TTY, and nothing when quiet", () => {
    const out = sink();
    const r = createProgressReporter({ stream: out.stream, tty: false });
    r.onEvent({ type: "start", path: "a.json", size: 10, resumeFrom: 4 });
    r.onProgress({ path: "a.json", received: 10, total: 10 });
    r.onEvent({ type: "done", path: "a.json", size: 10 });
    r.onEvent({ type: "missing", path: "tokenizer.json" });
    expect(out.text()).toBe(
      "a.json: downloading (10 B), resuming at 4 B\na.json: done (10 B)\ntokenizer.json: not in the repo, skipped\n",
    );
    const quiet = sink();
    const q = createProgressReporter({ stream: quiet.stream, tty: true, quiet: true });
    q.onProgress({ path: "a.json", received: 1, total: 10 });
    q.onEvent({ type: "done", path: "a.json", size: 10 });
    expect(quiet.text()).toBe("");
  });
});
