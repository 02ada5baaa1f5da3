/** Entry point: `npm run origin -- --model DIR [--port 8788] [--provider cuda|cpu]`. */
import { isClipEdgeError } from "../conditioning/errors.ts";
import { parseOriginArgs } from "./cli-options.ts";
import { startOrigin } from "./start-origin.ts";

async function main(): Promise<void> {
  const options = parseOriginArgs(process.argv.slice(2), process.env);
  const started = await startOrigin(options);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`origin: ${signal}, draining and stopping`);
    started.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error) => {
  if (isClipEdgeError(error)) {
    console.error(
      error.code === "usage" ? error.message : `origin: ${error.code}: ${error.message}`,
    );
    process.exit(error.code === "usage" ? 2 : 1);
  }
  console.error(error);
  process.exit(1);
});
