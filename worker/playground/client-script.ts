/** The playground's app.js: the client parts in one strict-mode function scope. */
import { CLIENT_COMPARE } from "./client-compare.ts";
import { CLIENT_CONDITIONING } from "./client-conditioning.ts";
import { CLIENT_CORE } from "./client-core.ts";
import { CLIENT_MODELS } from "./client-models.ts";
import { CLIENT_PROMPT } from "./client-prompt.ts";
import { CLIENT_SCORE } from "./client-score.ts";

export const CLIENT_SCRIPT = `(function () {${[
  CLIENT_CORE,
  CLIENT_PROMPT,
  CLIENT_CONDITIONING,
  CLIENT_COMPARE,
  CLIENT_SCORE,
  CLIENT_MODELS,
].join("\n")}})();\n`;
