/**
 * A missing DEFAULT_MODEL is the deployment's fault, not the caller's: a request that names
 * no model (or names the default) gets 503 `unavailable` naming DEFAULT_MODEL, while a model
 * the caller named and R2 lacks stays 404 `not_found` (docs/worker.md "Errors").
 */
import { ClipEdgeError, isClipEdgeError } from "../../conditioning/errors.ts";
import type { ModelRegistry } from "./model-registry.ts";

export function withDefaultModelUnavailable(
  registry: ModelRegistry,
  defaultModel: () => string,
): ModelRegistry {
  const rethrow = (id: string) => (error: unknown) => {
    if (isClipEdgeError(error) && error.code === "not_found" && id === defaultModel()) {
      throw new ClipEdgeError(
        "unavailable",
        `the default model ${JSON.stringify(id)} (DEFAULT_MODEL) is not in the MODELS bucket: upload its bundle (docs/worker.md "Deploy") or set DEFAULT_MODEL to a bundle there; GET /v1/models lists them`,
        { cause: error },
      );
    }
    throw error;
  };
  return {
    ...registry,
    manifest: (id) => registry.manifest(id).catch(rethrow(id)),
    get: (id) => registry.get(id).catch(rethrow(id)),
  };
}
