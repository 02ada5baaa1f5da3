import type { HubProgress } from "./hub-client.ts";
import type { PullEvent } from "./pull-model.ts";

export interface ProgressReporterOptions {
  stream: NodeJS.WritableStream;
  /** Redraw one bar in place (TTY) or print plain lines (logs, pipes). */
  tty: boolean;
  quiet?: boolean;
  /** Columns for the bar on a TTY. */
  width?: number;
  /** Clock for redraw throttling; passed in for tests. */
  now?: () => number;
}

export interface ProgressReporter {
  onProgress(progress: HubProgress): void;
  onEvent(event: PullEvent): void;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** Renders download progress on stderr: a redrawn bar on a TTY, one line per file otherwise. */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const { stream, tty } = options;
  const now = options.now ?? Date.now;
  const barWidth = Math.max(10, Math.min(40, (options.width ?? 80) - 50));
  let lastDraw = 0;
  let drawn = false;

  const write = (text: string) => {
    if (!options.quiet) stream.write(text);
  };
  const clearBar = () => {
    if (drawn) write("\r\x1b[K");
    drawn = false;
  };
  const line = (text: string) => {
    clearBar();
    write(`${text}\n`);
  };

  return {
    onProgress({ path, received, total }) {
      if (!tty || options.quiet) return;
      const t = now();
      if (drawn && t - lastDraw < 100 && received !== total) return;
      lastDraw = t;
      const fraction = total ? Math.min(1, received / total) : 0;
      const filled = Math.round(fraction * barWidth);
      const bar = total ? `[${"#".repeat(filled)}${" ".repeat(barWidth - filled)}] ` : "";
      const pct = total ? `${(fraction * 100).toFixed(0).padStart(3)}% ` : "";
      const size = total ? `${formatBytes(received)}/${formatBytes(total)}` : formatBytes(received);
      write(`\r\x1b[K${bar}${pct}${size} ${path}`);
      drawn = true;
    },
    onEvent(event) {
      switch (event.type) {
        case "skip":
          line(`${event.path}: already complete (${formatBytes(event.size)}), skipped`);
          break;
        case "start":
          if (!tty || event.resumeFrom > 0) {
            const size = event.size === undefined ? "" : ` (${formatBytes(event.size)})`;
            const resume =
              event.resumeFrom > 0 ? `, resuming at ${formatBytes(event.resumeFrom)}` : "";
            line(`${event.path}: downloading${size}${resume}`);
          }
          break;
        case "retry":
          line(`${event.path}: connection lost, resuming at ${formatBytes(event.resumeFrom)}`);
          break;
        case "done":
          line(`${event.path}: done (${formatBytes(event.size)})`);
          break;
        case "missing":
          if (!tty) line(`${event.path}: not in the repo, skipped`);
          break;
      }
    },
  };
}
