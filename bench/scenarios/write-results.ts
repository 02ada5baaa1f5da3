/**
 * `npm run bench:results`: runs the full benchmark (`bench/main.ts --json`,
 * environment overrides pass through) and rewrites bench/RESULTS.md.
 * `--from FILE.jsonl` (repeatable) formats earlier runs' JSON lines instead;
 * `--quick` runs the quick benchmark (for checking the generator).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
const from = argv.flatMap((a, i) => (argv[i - 1] === "--from" ? [a] : []));
const quick = argv.includes("--quick");
const load = loadavg()
  .map((x) => x.toFixed(1))
  .join(" ");
let text: string;
if (from.length > 0) {
  text = from.map((f) => readFileSync(f, "utf8")).join("\n");
} else {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "bench/main.ts", "--json", ...(quick ? ["--quick"] : [])],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 },
  );
  text = run.stdout;
  mkdirSync(`${root}/bench/.out`, { recursive: true });
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
  loadAverage: from.length > 0 ? `${load} when written` : `${load} at start`,
  date: new Date().toISOString(),
  command:
    from.length > 0
      ? `npm run bench:results -- ${from.map((f) => `--from ${f}`).join(" ")} (the JSON lines of separate bench runs)`
      : "npm run bench:results",
});
writeFileSync(`${root}/bench/RESULTS.md`, md + keptSections(`${root}/bench/RESULTS.md`));
process.stdout.write(`bench/RESULTS.md: ${records.length} records\n`);

/**
 * Sections of the current RESULTS.md that other scripts write and this one does not
 * regenerate (the int8 accuracy table of bench/quant/write-quant-table.ts): from their
 * heading to the end of the file, kept as they are.
 */
function keptSections(path: string): string {
  let current: string;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    return "";
  }
  const at = current.indexOf("\n## int8 accuracy on the outlier proxy");
  return at < 0 ? "" : current.slice(at);
}
