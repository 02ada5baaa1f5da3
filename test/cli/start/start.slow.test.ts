/**
 * `npm start` as a newcomer runs it: the README's main command with a fixture model and
 * `--origin`, then a real /v1/score request with an image sent as base64, then Ctrl-C.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath, repoRoot } from "../../helpers/fixtures.ts";
import { freePort } from "../../helpers/npm-start.ts";

async function waitFor(url: string, child: ChildProcess, log: () => string, ms = 240_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${log()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} never answered:\n${log()}`);
}

const up = (url: string) =>
  fetch(url).then(
    () => true,
    () => false,
  );

describe("npm start -- --model <fixture> --origin", () => {
  const state = mkdtempSync(join(tmpdir(), "clip-edge-start-"));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
    rmSync(state, { recursive: true, force: true });
  });

  it("serves /v1/score for a fixture photo sent as base64, and stops both servers on SIGINT", async () => {
    const port = await freePort();
    const originPort = await freePort();
    const model = fixturePath("models", "tiny-openai");
    let output = "";
    child = spawn(
      "npm",
      ["start", "--", "--model", model, "--origin", "--port", String(port)].concat([
        "--origin-port",
        String(originPort),
        "--persist-to",
        join(state, "wrangler"),
      ]),
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          CLIP_EDGE_CACHE: join(state, "cache"),
          WRANGLER_SEND_METRICS: "false",
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    child.stdout?.on("data", (c) => {
      output += c;
    });
    child.stderr?.on("data", (c) => {
      output += c;
    });
    const worker = `http://127.0.0.1:${port}`;
    await waitFor(`${worker}/healthz`, child, () => output.slice(-3000));

    // A real photo (791 KB, over the text routes' 64 KiB body limit), as a user sends one.
    const png = readFileSync(fixturePath("images", "astronaut.png"));
    const response = await fetch(`${worker}/v1/score`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        images: [{ b64: png.toString("base64") }],
        prompts: ["an astronaut", "a photo of a dog"],
      }),
    });
    const body = (await response.json()) as { scores: number[][] };
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body.scores).toHaveLength(1);
    expect(body.scores[0]).toHaveLength(2);
    for (const score of body.scores[0]) {
      expect(Number.isFinite(score)).toBe(true);
      expect(score).toBeGreaterThanOrEqual(0);
    }
    expect(await up(`http://127.0.0.1:${originPort}/healthz`)).toBe(true);

    process.kill(-child.pid!, "SIGINT");
    await new Promise((resolve) => child!.once("exit", resolve));
    const deadline = Date.now() + 20_000;
    while (
      Date.now() < deadline &&
      ((await up(`${worker}/healthz`)) || (await up(`http://127.0.0.1:${originPort}/healthz`)))
    ) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await up(`${worker}/healthz`)).toBe(false);
    expect(await up(`http://127.0.0.1:${originPort}/healthz`)).toBe(false);
  }, 300_000);
});
