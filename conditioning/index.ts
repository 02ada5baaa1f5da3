/**
 * Public API of the runtime-agnostic conditioning core (see docs/conditioning.md).
 * Runtimes pass in InferenceSessionLike sessions and a TensorFactory.
 */

export { hiddenStateOutput, resolveClipSkip } from "./conditioning/clip-skip.ts";
export { a1111Composition, type CompositionEntry } from "./conditioning/composition.ts";
export {
  type Conditioner,
  type ConditionerOptions,
  createConditioner,
} from "./conditioning/conditioner.ts";
export {
  exportedHiddenStates,
  runSequences,
  type SequenceInput,
} from "./conditioning/encoder-runner.ts";
export {
  defaultSyntax,
  type PromptParser,
  type PromptParsers,
  type PromptPart,
  type PromptStructure,
  promptFragments,
  promptStructure,
} from "./conditioning/fragments.ts";
export { conditioningMetadataStrings, withConditioningTensors } from "./conditioning/metadata.ts";
export { getPreset, PRESETS, type Preset, type PresetName } from "./conditioning/presets.ts";
export { normaliseRequest } from "./conditioning/request.ts";
export {
  createTextEmbedder,
  type TextEmbedder,
  type TextEmbedderOptions,
  type TextEmbeddings,
} from "./conditioning/text-embedder.ts";
export {
  buildTokenChunks,
  CHUNK_TOKENS,
  COMMA_ID,
  EOT_ID,
  emptyChunk,
  SOT_ID,
  type TokenChunk,
  type TokenizedPrompt,
} from "./conditioning/token-chunks.ts";
export type {
  ComposedConditioning,
  ConditioningEntryReport,
  ConditioningMetadata,
  ConditioningRequest,
  ConditioningResult,
  EncoderBinding,
  FloatTensor,
  LongPromptMode,
  OutputDtype,
  PromptReport,
  PromptSyntax,
  TokenizerLike,
  WeightedFragment,
  WeightingMode,
} from "./conditioning/types.ts";
export * from "./conditioning/weighting.ts";
export type { InferenceSessionLike, TensorFactory, TensorLike } from "./encoder/session.ts";
export { ClipEdgeError, isClipEdgeError } from "./errors.ts";
export { decodeBase64, encodeBase64 } from "./formats/base64.ts";
export { tensorsToBase64, tensorsToJson } from "./formats/json-tensors.ts";
export { serializeNpy } from "./formats/npy.ts";
export { serializeNpz } from "./formats/npz.ts";
export { serializeRaw } from "./formats/raw.ts";
export { parseSafetensors, serializeSafetensors } from "./formats/safetensors.ts";
export {
  type SerializedTensors,
  type SerializeOptions,
  serializeTensors,
  TENSOR_FORMATS,
  type TensorFormat,
} from "./formats/serialize-tensors.ts";
export { clipScore, clipScoreAggregate } from "./scoring/clip-score.ts";
export { cosineSimilarity, dot, l2Normalize, l2NormalizeRows } from "./scoring/normalize.ts";
export { type RankedCandidate, rankPrompts, softmax } from "./scoring/ranking.ts";
export {
  classEmbedding,
  DEFAULT_TEMPLATES,
  zeroShotClassify,
  zeroShotPrompts,
} from "./scoring/zero-shot.ts";
