import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ClipEdgeError } from "../../conditioning/errors.ts";

export const PULL_LOCK_FILE = ".clip-edge-pull.lock";

export interface PullLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Creates `outDir` and takes `outDir/.clip-edge-pull.lock` (O_EXCL, holding the pid), so two
 * pulls never write the same `.incomplete` files. A lock left by a dead process is taken over.
 */
export async function acquirePullLock(outDir: string, pid = process.pid): Promise<PullLock> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new ClipEdgeError("invalid_input", `output folder '${outDir}' cannot be created`, {
      cause: error,
    });
  }
  const path = join(outDir, PULL_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(pid));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new ClipEdgeError("invalid_input", `output folder '${outDir}' is not writable`, {
          cause: error,
        });
      }
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new ClipEdgeError(
          "unavailable",
          `another pull into '${outDir}' is running (pid ${owner}); wait for it, or delete ${path} if it is gone`,
          { details: { pid: owner } },
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new ClipEdgeError("unavailable", `could not lock '${outDir}' for pulling`);
}
