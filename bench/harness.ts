/**
 * Benchmark harness: timing (warm-up, repeated runs, median / p95), result records, a table
 * printer and the `--json` / `--quick` command line. Scenarios live in `bench/scenarios/*.ts`,
 * each exporting a `Scenario`, and are registered in the list in `bench/main.ts`.
 */

/** One measured configuration. Optional keys are printed only where they apply. */
export interface BenchResult {
  scenario: string;
  model?: string;
  variant?: string;
  runtime?: string;
  median_ms: number;
  p95_ms: number;
  runs: number;
  /** Items per second for throughput scenarios (with `unit`, e.g. "prompts/s"). */
  throughput?: number;
  unit?: string;
  /** Extra numbers or labels (ratios, sizes, errors...). */
  [key: string]: string | number | boolean | undefined;
}

export interface Timing {
  samples: number[];
  median_ms: number;
  p95_ms: number;
  mean_ms: number;
  min_ms: number;
  runs: number;
}

export interface MeasureOptions {
  /** Untimed calls first (default 3; 1 in quick mode). */
  warmup?: number;
  /** Timed calls (default 15; 5 in quick mode). */
  runs?: number;
  /** Keep warming up until this much time has passed (default 0). */
  warmupMs?: number;
  /** Keep running until this much time has been measured (default 0). */
  minTimeMs?: number;
}

export interface BenchContext {
  /** Fewer runs, smaller inputs: for CI smoke runs. */
  readonly quick: boolean;
  /** Times `fn` (sync or async) per the options, quick mode aware. */
  measure(fn: () => unknown, options?: MeasureOptions): Promise<Timing>;
  /** Records a result (printed as a table row, or one JSON line with --json). */
  report(result: BenchResult): void;
  /** Free-form note printed under the table (stderr in --json mode). */
  note(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<void> | void;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function summarize(samples: readonly number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: [...samples],
    median_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
    mean_ms: samples.reduce((a, b) => a + b, 0) / Math.max(samples.length, 1),
    min_ms: sorted[0] ?? Number.NaN,
    runs: samples.length,
  };
}

export async function measure(
  fn: () => unknown,
  options: MeasureOptions & { quick?: boolean } = {},
): Promise<Timing> {
  const warmup = options.warmup ?? (options.quick ? 1 : 3);
  const runs = options.runs ?? (options.quick ? 5 : 15);
  const minTime = options.minTimeMs ?? 0;
  const warmStart = performance.now();
  for (let i = 0; i < warmup || performance.now() - warmStart < (options.warmupMs ?? 0); i++) {
    await fn();
  }
  const samples: number[] = [];
  let total = 0;
  while (samples.length < runs || total < minTime) {
    const start = performance.now();
    await fn();
    const elapsed = performance.now() - start;
    samples.push(elapsed);
    total += elapsed;
    if (samples.length >= runs * 100) break;
  }
  return summarize(samples);
}

const COLUMNS = [
  "scenario",
  "model",
  "variant",
  "runtime",
  "median_ms",
  "p95_ms",
  "runs",
  "throughput",
  "unit",
];

function cell(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(4);
  }
  return String(value);
}

/** A plain-text table of results; extra keys go in a trailing "extra" column. */
export function formatTable(results: readonly BenchResult[]): string {
  if (results.length === 0) return "(no results)\n";
  const columns = COLUMNS.filter((c) => results.some((r) => r[c] !== undefined));
  const rows = results.map((r) => {
    const extra = Object.entries(r)
      .filter(([k, v]) => !COLUMNS.includes(k) && v !== undefined)
      .map(([k, v]) => `${k}=${cell(v)}`)
      .join(" ");
    return [...columns.map((c) => cell(r[c])), extra];
  });
  const header = [...columns, "extra"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((v, i) => (i >= 4 && i < columns.length ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return `${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`;
}

export interface HarnessIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const HELP = `Usage: npm run bench -- [--quick] [--json] [--only NAME[,NAME]] [--list]

  --quick   fewer runs and smaller inputs (smoke run)
  --json    one JSON object per result line: {"scenario","model","variant","runtime","median_ms","p95_ms",...}
  --only    run only the named scenarios
  --list    list the scenarios
`;

/** Runs scenarios per argv; returns the exit code (2 for bad arguments, 1 if a scenario failed). */
export async function runBench(
  scenarios: readonly Scenario[],
  argv: readonly string[],
  io: HarnessIo,
): Promise<number> {
  let quick = false;
  let json = false;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--json") json = true;
    else if (arg === "--only") only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (arg.startsWith("--only=")) only = arg.slice(7).split(",").filter(Boolean);
    else if (arg === "--list") {
      for (const s of scenarios) io.stdout.write(`${s.name}\t${s.description}\n`);
      return 0;
    } else if (arg === "--help" || arg === "-h") {
      io.stdout.write(HELP);
      return 0;
    } else {
      io.stderr.write(`bench: unknown argument ${JSON.stringify(arg)} (see --help)\n`);
      return 2;
    }
  }
  const unknown = (only ?? []).filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) {
    io.stderr.write(
      `bench: unknown scenario ${unknown.join(", ")} (have ${scenarios.map((s) => s.name).join(", ")})\n`,
    );
    return 2;
  }
  const selected = scenarios.filter((s) => !only || only.includes(s.name));
  const results: BenchResult[] = [];
  const notes: string[] = [];
  let failed = 0;
  const ctx: BenchContext = {
    quick,
    measure: (fn, options) => measure(fn, { ...options, quick }),
    report(result) {
      results.push(result);
      if (json) io.stdout.write(`${JSON.stringify(result)}\n`);
    },
    note(message) {
      if (json) io.stderr.write(`${message}\n`);
      else notes.push(message);
    },
  };
  for (const scenario of selected) {
    const first = results.length;
    try {
      await scenario.run(ctx);
    } catch (error) {
      failed++;
      io.stderr.write(
        `bench: scenario ${scenario.name} failed: ${(error as Error)?.message ?? error}\n`,
      );
    }
    // One table per scenario, printed as soon as it is done (a later crash keeps earlier rows).
    if (!json && (results.length > first || notes.length > 0)) {
      io.stdout.write(formatTable(results.slice(first)));
      for (const note of notes.splice(0)) io.stdout.write(`${note}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}
