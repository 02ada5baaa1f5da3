/** Worker-thread side of the transform pool: runs clipTransform off the event loop. */
import { parentPort } from "node:worker_threads";
import { clipTransform, type DecodedImage } from "./clip-transform.ts";
import type { PreprocessorConfig } from "./config.ts";

interface Job {
  id: number;
  image: DecodedImage;
  config: PreprocessorConfig;
}

parentPort?.on("message", (job: Job) => {
  try {
    const out = clipTransform(job.image, job.config);
    parentPort?.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: (error as Error)?.message ?? String(error) });
  }
});
