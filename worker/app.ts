/**
 * The Hono app: middleware (errors, auth, JSON bodies), routes and the OpenAPI
 * document. Everything it needs is passed in; `createWorkerApp` in
 * `app-from-env.ts` wires it to the Workers environment.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps } from "./app-deps.ts";
import { registerBatches } from "./batch/batches-routes.ts";
import { registerFiles } from "./batch/files-routes.ts";
import { apiKeyAuth } from "./http/auth.ts";
import { routeBodyLimits } from "./http/body-limits.ts";
import { errorBody, handleError, handleNotFound } from "./http/error-response.ts";
import { jsonBody } from "./http/json-body.ts";
import { registerOpenApiDocument } from "./http/openapi-document.ts";
import { registerConditioning } from "./routes/conditioning.ts";
import { registerEmbeddings } from "./routes/embeddings.ts";
import { registerHealth } from "./routes/health.ts";
import { registerModels } from "./routes/models.ts";
import { registerPlayground } from "./routes/playground.ts";
import { registerScore } from "./routes/score.ts";
import { registerTokenize } from "./routes/tokenize.ts";

export const OPEN_PATHS = ["/healthz", "/readyz", "/openapi.json"] as const;

export interface CreateAppOptions extends AppDeps {
  apiKeys: () => readonly string[];
}

export function createApp(options: CreateAppOptions): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map(
          (issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`,
        );
        return c.json(errorBody("invalid_request", `invalid request: ${issues.join("; ")}`), 422);
      }
    },
  });
  app.onError(handleError);
  app.notFound(handleNotFound);
  // The page is public (it asks for the key): registered before the API-key middleware.
  registerPlayground(app);
  app.use("*", apiKeyAuth({ keys: options.apiKeys, openPaths: OPEN_PATHS }));
  app.use("/v1/*", jsonBody(routeBodyLimits(options.limits)));

  registerHealth(app, options);
  registerModels(app, options);
  registerEmbeddings(app, options);
  registerConditioning(app, options);
  registerTokenize(app, options);
  registerScore(app, options);
  registerFiles(app, options);
  registerBatches(app, options);

  registerOpenApiDocument(app, { openPaths: OPEN_PATHS });
  return app;
}
