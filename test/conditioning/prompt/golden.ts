import { readFileSync } from "node:fs";
import { fixturePath } from "../../helpers/fixtures.ts";

/** Golden weights may be the strings "Infinity", "-Infinity", "NaN" (JSON cannot hold them). */
export function reviveWeight(value: unknown): unknown {
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  if (value === "NaN") return Number.NaN;
  return value;
}

/** Reads a prompts golden file as parsed JSON objects. */
export function readGolden(name: string): Record<string, unknown>[] {
  return readFileSync(fixturePath("prompts", name), "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Pairs `[text, weight]` with golden string weights turned into numbers. */
export function revivePairs(pairs: unknown): [string, number][] {
  return (pairs as [string, unknown][]).map(([t, w]) => [t, reviveWeight(w) as number]);
}
