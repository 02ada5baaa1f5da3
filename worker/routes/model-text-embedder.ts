/** The text embedder of a loaded model, as /v1/embeddings and /v1/score use it. */
import {
  createTextEmbedder,
  type TextEmbedder,
} from "../../conditioning/conditioner/text-embedder.ts";
import type { AppDeps } from "../app-deps.ts";
import type { LoadedModel } from "../models/model-registry.ts";

export async function modelTextEmbedder(model: LoadedModel, deps: AppDeps): Promise<TextEmbedder> {
  const [session, tokenizer] = await Promise.all([model.textSession(), model.tokenizer()]);
  return createTextEmbedder({
    session,
    tokenizer,
    tensorFactory: model.tensor,
    manifest: model.manifest,
    maxBatch: deps.limits().maxBatchSize,
    id: model.id,
  });
}
