/**
 * `--model DIR` -> what the origin serves: a prepared bundle (manifest.json) is loaded as is;
 * a Hugging Face checkpoint folder is prepared into `<cacheDir>/prepared/...` on first use
 * (node/prepare, fp32: the origin has the memory) and reused afterwards.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { graphStages } from "../../conditioning/bundle/graph-files.ts";
import type { BundleManifest, GraphEntry } from "../../conditioning/bundle/manifest.ts";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { Tokenizer } from "../../conditioning/tokenizer/tokenizer.ts";
import { resolveModelSource } from "../../node/hub/resolve-model.ts";
import { type PreprocessorConfig, parsePreprocessorConfig } from "../../node/image/config.ts";
import type { AdaptedSession } from "../../node/runtime/adapt-session.ts";
import { chainStages } from "../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../node/runtime/load-bundle.ts";
import {
  createTokenEmbeddingTable,
  withTokenEmbeddingTable,
} from "../../node/runtime/token-embedding-table.ts";
import { type CreateSession, openProviderSession, type Provider } from "./provider-session.ts";

export interface LoadModelOptions {
  /** A bundle folder or a Hugging Face checkpoint folder. */
  model: string;
  provider: Provider;
  cacheDir: string;
  createSession: CreateSession;
  /** Prepares an HF folder into a bundle (node/prepare `prepareBundle`). */
  prepare: (options: {
    from: string;
    out: string;
    log: (line: string) => void;
  }) => Promise<unknown>;
  loadTokenizer: (dir: string) => Promise<Tokenizer>;
  deviceId?: number;
  intraOpNumThreads?: number;
  log?: (line: string) => void;
}

export interface OriginModel {
  name: string;
  dir: string;
  manifest: BundleManifest;
  provider: Provider;
  vision?: {
    session: AdaptedSession;
    preprocessor: PreprocessorConfig;
    imageShape: [number, number, number];
  };
  text?: { session: AdaptedSession; tokenizer: Tokenizer; padId: number; maxLength: number };
  release(): Promise<void>;
}

/** Prefers an fp32 graph of the given kind (the origin is not memory-bound). */
function pickGraph(manifest: BundleManifest, kind: "text" | "vision"): GraphEntry | undefined {
  const graphs = manifest.graphs.filter((g) => g.kind === kind);
  return graphs.find((g) => g.quantization === "fp32") ?? graphs[0];
}

async function bundleDirFor(
  options: LoadModelOptions,
  log: (line: string) => void,
): Promise<string> {
  let dir = resolve(options.model);
  if (!existsSync(dir)) {
    // A hub id (owner/name[/subfolder][@revision]) already pulled into the cache; the origin
    // itself never downloads (run `clip-edge pull` first).
    const source = await resolveModelSource(options.model, {
      cacheDir: options.cacheDir,
      offline: true,
    });
    dir = source.dir;
  }
  if (existsSync(join(dir, "manifest.json"))) return dir;
  if (!existsSync(join(dir, "config.json"))) {
    throw new ClipEdgeError(
      "invalid_input",
      `--model ${options.model}: neither a prepared bundle (manifest.json) nor a Hugging Face folder (config.json)`,
    );
  }
  const key = createHash("sha256").update(dir).digest("hex").slice(0, 12);
  const out = join(resolve(options.cacheDir), "prepared", `${basename(dir)}-${key}`);
  if (existsSync(join(out, "manifest.json"))) {
    log(`origin: using the bundle prepared earlier from ${dir}: ${out}`);
    return out;
  }
  log(`origin: preparing ${dir} into ${out} (first use)`);
  await options.prepare({ from: dir, out, log: (line) => log(`prepare: ${line}`) });
  return out;
}

export async function loadOriginModel(options: LoadModelOptions): Promise<OriginModel> {
  const log = options.log ?? ((line: string) => console.error(line));
  const dir = await bundleDirFor(options, log);
  // Manifest validated by the runtime's loader; graphs are opened by path (external data).
  const bundle = loadBundle(dir, { verifyHashes: false });
  const manifest = bundle.manifest;
  const providers: Provider[] = [];
  const open = async (entry: GraphEntry) => {
    // Staged text graphs (prepare --stages) are opened stage by stage and chained.
    const sessions: AdaptedSession[] = [];
    for (const stage of graphStages(entry)) {
      // Once CUDA failed to start, do not try it again for the next graph.
      const provider = providers.includes("cpu") ? "cpu" : options.provider;
      const opened = await openProviderSession(join(dir, stage.file), {
        provider,
        createSession: options.createSession,
        deviceId: options.deviceId,
        intraOpNumThreads: options.intraOpNumThreads,
        label: `${manifest.name}/${stage.file}`,
        log,
      });
      providers.push(opened.provider);
      sessions.push(opened.session);
    }
    return chainStages(sessions, `${manifest.name}/${entry.file}`);
  };
  const model: OriginModel = {
    name: manifest.name,
    dir,
    manifest,
    provider: options.provider,
    async release() {
      await model.vision?.session.release();
      await model.text?.session.release();
    },
  };
  const visionGraph = pickGraph(manifest, "vision");
  if (visionGraph) {
    const preprocessor = manifest.preprocessor
      ? manifest.preprocessor
      : parsePreprocessorConfig(
          JSON.parse(readFileSync(join(dir, "preprocessor_config.json"), "utf8")),
        );
    const channels = manifest.architecture.vision?.numChannels ?? 3;
    model.vision = {
      session: await open(visionGraph),
      preprocessor,
      imageShape: [channels, preprocessor.cropSize.height, preprocessor.cropSize.width],
    };
  }
  const textGraph = pickGraph(manifest, "text");
  if (textGraph) {
    let session = await open(textGraph);
    if (session.inputNames.includes("token_embeds")) {
      // int8 token table stored beside the graph (external-int8): feed token_embeds from input_ids.
      const table = bundle.readTokenEmbeddingTable();
      if (!table) {
        throw new ClipEdgeError(
          "malformed",
          `${dir}: text graph takes token_embeds but the bundle has no token table`,
        );
      }
      session = withTokenEmbeddingTable(session, createTokenEmbeddingTable(table));
    }
    model.text = {
      session,
      tokenizer: await options.loadTokenizer(dir),
      padId: manifest.tokenizer.padId,
      maxLength: manifest.tokenizer.maxLength,
    };
  }
  if (!model.vision && !model.text) {
    throw new ClipEdgeError("invalid_input", `${dir}: the bundle has no text or vision graph`);
  }
  model.provider = providers.includes("cpu") ? "cpu" : options.provider;
  return model;
}
