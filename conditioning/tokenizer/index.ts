export { type BpeModel, type BpeOptions, createBpe } from "./bpe.ts";
export {
  type FileContent,
  type JsonContent,
  parseMerges,
  type TokenizerConfigFiles,
  type TokenizerFiles,
} from "./files.ts";
export { fixText } from "./ftfy/fix-text.ts";
export { htmlUnescape } from "./html-unescape.ts";
export { loadTokenizer, loadTokenizerFiles, type ReadFile } from "./load-files.ts";
export type { NormalizationMode } from "./normalize.ts";
export {
  type CreateTokenizerOptions,
  createTokenizer,
  type EncodeForModelOptions,
  type EncodeOptions,
  type ModelInput,
  type Tokenizer,
  type TokenWithOffset,
} from "./tokenizer.ts";
export { CLIP_SPLIT_PATTERN, clipTokenizerJson } from "./tokenizer-json.ts";
