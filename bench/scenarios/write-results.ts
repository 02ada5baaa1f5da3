/**
 * `npm run bench:results`: runs the full benchmark (`bench/main.ts --json`,
 * environment overrides pass through) and rewrites bench/RESULTS.md.
 * `--from FILE.jsonl` formats an earlier run's JSON lines instead;
 * `--quick` runs the quick benchmark (for checking the generator).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "../harness.ts";
import { resultsMarkdown } from "./results-markdown.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const version = (pkg: string) => {
  try {
    const path = `${root}/node_modules/${pkg}/package.json`;
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "n/a";
  }
};

const argv = process.argv.slice(2);
const from = argv.includes("--from") ? argv[argv.indexOf("--from") + 1] : undefined;
const quick = argv.includes("--quick");
const load = loadavg()
  .map((x) => x.toFixed(1))
  .join(" ");
let text: string;
if (from) {
  text = readFileSync(from, "utf8");
} else {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "bench/main.ts", "--json", ...(quick ? ["--quick"] : [])],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 },
  );
  text = run.stdout;
  writeFileSync(`${root}/bench/.out/last-run.jsonl`, text);
  if (run.status !== 0) process.stderr.write(`bench exited with ${run.status}; writing what ran\n`);
}
const records = text
  .split("\n")
  .filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l) as BenchResult);
const md = resultsMarkdown(records, {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  node: process.version,
  ortWeb: version("onnxruntime-web"),
  ortNode: version("onnxruntime-node"),
  loadAverage: load,
  date: new Date().toISOString(),
  command: "npm run bench:results",
});
writeFileSync(`${root}/bench/RESULTS.md`, md);
process.stdout.write(`bench/RESULTS.md: ${records.length} records\n`);
