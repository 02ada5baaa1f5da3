/**
 * manifest.json of a prepared bundle (written by `clip-edge prepare`, read by
 * the worker, the origin and the CLI). Graph I/O names are fixed here so every
 * runtime agrees on them.
 *
 * Text graph (`graphs[].kind === "text"`):
 *   inputs:  input_ids int64 [batch, seq] (seq 1..maxPositions, dynamic),
 *            attention_mask int64 [batch, seq] (optional; 1 = attend, 0 = masked key)
 *   outputs: last_hidden_state  float32 [batch, seq, W]  final-LN output (HF last_hidden_state)
 *            hidden_states_<k>   float32 [batch, seq, W]  pre-final-LN HF hidden_states[-k], k = 1..K
 *            hidden_states_ln_<k> float32 [batch, seq, W] same with the final LayerNorm applied
 *            pooled             float32 [batch, W]       last_hidden_state at argmax(input_ids) (first max)
 *            text_embeds        float32 [batch, E]       pooled @ text_projection^T (when projected)
 * Vision graph (`kind === "vision"`):
 *   inputs:  pixel_values float32 [batch, 3, H, W]
 *   outputs: vision_pooled float32 [batch, Wv] (post-LN CLS), image_embeds float32 [batch, E]
 */
export const MANIFEST_FORMAT_VERSION = 1;

export type Quantization = "fp32" | "int8" | "q4";
export type HiddenAct = "quick_gelu" | "gelu";
export type NormalizationMode = "openai" | "hf";

export interface TowerArchitecture {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  hiddenAct: HiddenAct;
  layerNormEps: number;
}

export interface TextArchitecture extends TowerArchitecture {
  vocabSize: number;
  maxPositions: number;
  /** Number of pre-final-LN hidden states exported (hidden_states_1..K). */
  exportedHiddenStates: number;
}

export interface VisionArchitecture extends TowerArchitecture {
  imageSize: number;
  patchSize: number;
  numChannels: number;
}

/** A file of a bundle with its size and SHA-256 (hex). */
export interface BundleFile {
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * One stage of a staged text graph (`prepare --stages N`): encoder layers
 * [layers[0], layers[1]) as a graph of its own. Stages after the first take
 * `hidden_in`, stages before the last output `hidden_out`
 * (conditioning/encoder/staged-session.ts); a runtime creates their sessions
 * one at a time, so only one stage's bytes are held in JS while loading.
 */
export interface GraphStage extends BundleFile {
  layers: [number, number];
  inputs: string[];
  outputs: string[];
  externalData?: BundleFile[];
}

export interface GraphEntry {
  kind: "text" | "vision";
  file: string;
  bytes: number;
  sha256: string;
  quantization: Quantization;
  inputs: string[];
  outputs: string[];
  /** Extra files the graph needs (external data), with their hashes. */
  externalData?: { file: string; bytes: number; sha256: string }[];
  /** Text graphs: how the token-embedding table is stored ("int8": per-row int8 + scales, gathered before dequantising). */
  tokenEmbedding?: "fp32" | "int8" | "external-int8";
  /**
   * "external-int8": the table lives outside the graph in this safetensors file
   * (`weight` I8 [V, W], `scale` F32 [V]); the graph then has an extra input
   * `token_embeds` float32 [batch, seq, W] = weight[ids] * scale[ids].
   */
  tokenEmbeddingTable?: { file: string; bytes: number; sha256: string };
  /** ONNX opset of the default domain (17: LayerNormalization); com.microsoft ops (MatMulNBits) when q4. */
  opset?: number;
  /**
   * Text graphs split into stages. When present, `file`, `bytes`, `sha256` and
   * `externalData` repeat stage 0 (a reader that ignores `stages` fails on the
   * missing outputs instead of answering wrongly), and `inputs` / `outputs`
   * are those of the whole chain. Read it through `graphStages()`.
   */
  stages?: GraphStage[];
  /**
   * What the graph costs onnxruntime-web's WASM heap, measured by `prepare`
   * (conditioning/memory/memory-model.ts); absent in older bundles, which the
   * worker then estimates from the architecture.
   */
  memory?: GraphMemoryProfile;
}

/** WASM heap costs of one graph in onnxruntime-web, measured at prepare time. */
export interface GraphMemoryProfile {
  /** What measured it, e.g. "onnxruntime-web 1.30.0 wasm, 1 thread, tight heap growth". */
  runtime: string;
  /** Heap once the runtime has started, before any graph (bytes). */
  runtimeBytes: number;
  /** Heap growth while loading this graph, every stage (bytes). */
  loadBytes: number;
  /** Heap a run needs per token position (rows x padded sequence length), in bytes. */
  tokenBytes: number;
  /** The runs it was measured with: rows x tokens each. */
  probes: { rows: number; tokens: number; heapBytes: number }[];
}

export interface QuantizationReport {
  prompts: string[];
  /** Per-token cosine of last_hidden_state against fp32. */
  tokenCosineMin: number;
  tokenCosineMean: number;
  textEmbedsCosineMin?: number;
  maxAbsError: number;
  imageEmbedsCosineMin?: number;
  /** `prepare`'s accuracy guard (int8 text graphs): the per-Linear plan and what it achieved. */
  guard?: PrecisionGuardReport;
}

/**
 * How one Linear of the text graph is lowered: per-token int8, per-token int8
 * after SmoothQuant smoothing (folded into the preceding LayerNorm), per-token
 * int8 with a few outlier input channels split out to fp32, or fp32.
 */
export type LinearPrecision = "int8" | "int8-smooth" | "int8-split" | "int8-residual" | "fp32";

/** What `prepare`'s accuracy guard chose and measured against the fp32 graph on its calibration set. */
export interface PrecisionGuardReport {
  /**
   * The targets; the search aims `margin` of each error budget higher
   * (1 - (1 - margin) * (1 - target)) to leave room for prompts outside the calibration set.
   */
  targets: { tokenCosineMin: number; embedsCosineMin: number; margin?: number };
  /** The calibration set: built-in prompts plus `--calibration FILE` (its prompts are in `file` in the bundle). */
  calibration: { prompts: number; sha256: string; builtin: number; file?: string };
  /** Over the calibration set: worst and mean per-token cosine of last_hidden_state, worst embeds cosine. */
  achieved: {
    tokenCosineMin: number;
    tokenCosineMean: number;
    embedsCosineMin: number;
    embeds: "text_embeds" | "pooled";
  };
  met: boolean;
  smoothingAlpha: number;
  /** Linear name (`layer<i>.qkv|out_proj|fc1|fc2`) -> precision. */
  plan: Record<string, LinearPrecision>;
  /**
   * Estimated worst relative row error of each Linear on captured inputs: per-token int8,
   * smoothed, split (outlier channels in fp32, smoothed too where `smoothedSplit` says so),
   * residual (a second int8 pass over the rounding residual).
   */
  sensitivity: Record<
    string,
    { int8: number; smoothed?: number; split?: number; residual?: number }
  >;
  /** "int8-split" Linears: the input channels computed in fp32. */
  splitChannels?: Record<string, number[]>;
  /** "int8-split" Linears whose other channels are also smoothed (folded into their LayerNorm). */
  smoothedSplit?: string[];
  /**
   * The cap on the share of the text tower's Linear multiply-adds that "int8-residual"
   * Linears may run a second time (their latency cost), and the share the plan uses.
   */
  residualBudget?: { maxShare: number; usedShare: number };
  fp32Linears: number;
  /** End-to-end evaluations the search ran. */
  evaluations: number;
  /**
   * The cap on weight bytes that fp32 Linears may add over int8 (`--guard-max-fp32-mb`; under
   * `--edge` it defaults to what a 128 MB isolate can spare), and what the plan adds.
   */
  fp32Budget?: { maxBytes: number; usedBytes: number; limited: boolean };
}

export interface BundleManifest {
  formatVersion: number;
  name: string;
  source: {
    repo?: string;
    revision?: string;
    path?: string;
    files: Record<string, { bytes: number; sha256: string }>;
  };
  architecture: {
    text?: TextArchitecture;
    vision?: VisionArchitecture;
    projectionDim?: number;
    logitScale?: number;
  };
  tokenizer: {
    files: string[];
    padId: number;
    maxLength: number;
    normalization: NormalizationMode;
  };
  /** Image preprocessing (from preprocessor_config.json) when a vision tower is present. */
  preprocessor?: {
    file: string;
    shortestEdge: number;
    cropSize: { height: number; width: number };
    mean: [number, number, number];
    std: [number, number, number];
    rescaleFactor: number;
    resample: number;
  };
  graphs: GraphEntry[];
  quantizationReport?: Record<string, QuantizationReport>;
  createdAt: string;
  createdBy: string;
}
