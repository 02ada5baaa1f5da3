import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { createCliIo } from "../helpers/cli-io.ts";

const io = () => createCliIo();

describe("clip-edge CLI", () => {
  it("lists commands with --help and exits 0", async () => {
    const t = io();
    expect(await main(["--help"], t.io)).toBe(0);
    expect(t.out()).toContain("tokenize");
  });

  it("rejects an unknown command with one line and exit code 2", async () => {
    const t = io();
    expect(await main(["frobnicate"], t.io)).toBe(2);
    expect(t.err().trim().split("\n")).toHaveLength(1);
    expect(t.err()).toContain("frobnicate");
  });
});
