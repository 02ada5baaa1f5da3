/**
 * A progress line on stderr: done/total, percent, rate (items a second over the items
 * computed by this process, resumed ones excluded) and ETA. On a TTY one line redrawn in
 * place (at most every `redrawMs`); otherwise plain lines every `intervalMs`, for logs.
 */
export interface ProgressOptions {
  total: number;
  /** Items already finished before this run (resumed). */
  resumed: number;
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  label?: string;
  now?: () => number;
  intervalMs?: number;
  redrawMs?: number;
}

export interface Progress {
  tick(n?: number): void;
  /** Writes the last line (and a newline on a TTY). */
  finish(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { total, resumed, stream } = options;
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const interval = tty ? (options.redrawMs ?? 100) : (options.intervalMs ?? 2000);
  const label = options.label ?? "eval";
  const start = now();
  let computed = 0;
  let last = -Infinity;

  const line = () => {
    const done = resumed + computed;
    const seconds = (now() - start) / 1000;
    const rate = seconds > 0 ? computed / seconds : 0;
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    const pct = total > 0 ? (100 * done) / total : 100;
    const tail = `${done}/${total} ${pct.toFixed(1)}% ${rate.toFixed(1)} img/s ETA ${formatDuration(eta)}${resumed > 0 ? ` (${resumed} resumed)` : ""}`;
    if (!tty) return `${label}: ${tail}`;
    const width = Math.max(
      10,
      Math.min(40, (stream.columns ?? 80) - tail.length - label.length - 6),
    );
    const filled = Math.round((width * done) / Math.max(total, 1));
    return `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${tail}`;
  };
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - last < interval) return;
    last = t;
    stream.write(tty ? `\r${line()}\u001b[K` : `${line()}\n`);
  };
  draw(true);
  return {
    tick(n = 1) {
      computed += n;
      draw(false);
    },
    finish() {
      draw(true);
      if (tty) stream.write("\n");
    },
  };
}
