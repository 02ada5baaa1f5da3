import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../../cli/main.ts";
import { createCliIo } from "../../helpers/cli-io.ts";
import { closedEndpoint, startFakeHub } from "../../node/hub/fake-hub.ts";
import { TINY_FILES, tinyOpenaiFiles } from "../../node/hub/fixture-repos.ts";

const io = () => createCliIo();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("clip-edge pull (in-process CLI)", () => {
  it("exits 2 with one usage line when the repo id or --out is missing", async () => {
    for (const argv of [
      ["pull", "--out", "/tmp/x"],
      ["pull", "openai/clip"],
      ["pull", "a/b", "--out", "o", "--bogus"],
    ]) {
      const t = io();
      expect(await main(argv, t.io)).toBe(2);
      expect(t.err().trim().split("\n")).toHaveLength(1);
    }
  });

  it("exits 2 for a path-like repo id", async () => {
    const t = io();
    expect(await main(["pull", "../etc", "--out", "/tmp/x"], t.io)).toBe(2);
    expect(t.err()).toContain("'../etc'");
  });

  it("pulls a repo from --endpoint, printing plain progress lines when stderr is not a TTY", async () => {
    const hub = await startFakeHub({ repos: { "openai/tiny-clip": { files: tinyOpenaiFiles() } } });
    cleanups.push(() => hub.close());
    const out = mkdtempSync(join(tmpdir(), "clip-edge-cli-pull-"));
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const t = io();
    const code = await main(
      ["pull", "openai/tiny-clip", "--out", out, "--endpoint", hub.endpoint],
      t.io,
    );
    expect(t.err()).not.toContain("\r");
    expect(code).toBe(0);
    const summary = JSON.parse(t.out());
    expect(summary).toMatchObject({
      repo: "openai/tiny-clip",
      revision: "main",
      downloaded: TINY_FILES.length,
    });
    expect(t.err()).toContain("model.safetensors: done (13.8 MiB)");
    expect(readdirSync(out).sort()).toEqual([...TINY_FILES, "clip-edge-pull.json"].sort());

    const quiet = io();
    expect(
      await main(
        ["pull", "openai/tiny-clip", "--out", out, "--endpoint", hub.endpoint, "--quiet"],
        quiet.io,
      ),
    ).toBe(0);
    expect(quiet.err()).toBe("");
    expect(JSON.parse(quiet.out()).downloaded).toBe(0);
  });

  it("exits 1 with one line naming the endpoint when the hub is unreachable", async () => {
    const t = io();
    const endpoint = await closedEndpoint();
    const code = await main(
      ["pull", "openai/tiny-clip", "--out", "/tmp/never-written", "--endpoint", endpoint],
      t.io,
    );
    expect(code).toBe(1);
    expect(t.err().trim().split("\n")).toHaveLength(1);
    expect(t.err()).toContain("cannot reach the hub at http://127.0.0.1:");
  });
});
