import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturePath, repoRoot } from "../helpers/fixtures.ts";

describe("cli/bin.mjs (the `clip-edge` executable)", () => {
  it("stops quietly with exit 0 when its reader closes the pipe early (`| head -1`)", async () => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, "cli", "bin.mjs"), "tokenize", "--tokenizer", fixturePath("vocab")],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // Close our end of stdout after the first line, as `head -1` does.
    const first = new Promise<string>((resolve) => {
      child.stdout.once("data", (chunk) => {
        child.stdout.destroy();
        resolve(String(chunk).split("\n")[0]);
      });
    });
    child.stdin.on("error", () => {});
    child.stdin.end('{"text": "a photo of a cat"}\n'.repeat(50_000));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(JSON.parse(await first)).toEqual({ ids: [320, 1125, 539, 320, 2368] });
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });
});
