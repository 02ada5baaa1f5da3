#!/usr/bin/env node
// Entry point for `npx clip-edge`: loads the TypeScript CLI through tsx (no build step).
import { register } from "tsx/esm/api";

// A reader that stops early (`clip-edge encode | head`) closes the pipe: stop quietly, as Unix
// tools do, instead of dying on an unhandled EPIPE.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
