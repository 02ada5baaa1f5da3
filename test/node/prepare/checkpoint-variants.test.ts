import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toFloat16Array } from "../../../conditioning/formats/float16.ts";
import {
  parseSafetensors,
  serializeSafetensors,
  type TensorToWrite,
  tensorToFloat32,
} from "../../../conditioning/formats/safetensors.ts";
import { prepareBundle } from "../../../node/prepare/prepare-bundle.ts";
import { openBundleGraphWeb } from "../../../node/runtime/bundle-session.ts";
import { loadBundle } from "../../../node/runtime/load-bundle.ts";
import { fixturePath } from "../../helpers/fixtures.ts";
import {
  goldenFloat,
  goldenIds,
  goldens,
  ids64,
  maxAbsDiff,
  pixelValues,
} from "./golden-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "clip-edge-ckpt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hfTensors(model: string) {
  const bytes = new Uint8Array(readFileSync(fixturePath("models", model, "model.safetensors")));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, e] of parseSafetensors(bytes).tensors)
    out.set(name, { shape: e.shape, data: tensorToFloat32(e, name) });
  return out;
}

function transpose(d: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(d.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = d[r * cols + c];
  return t;
}

/** Renames a transformers CLIPModel state dict to OpenAI CLIP names (as OpenAI/OpenCLIP checkpoints store them). */
function toOpenAiNames(
  hf: Map<string, { shape: number[]; data: Float32Array }>,
): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  const put = (name: string, shape: number[], data: Float32Array) => {
    out[name] = { dtype: "F32", shape, data };
  };
  const layers = (hfPrefix: string, oaPrefix: string) => {
    for (let i = 0; hf.has(`${hfPrefix}${i}.layer_norm1.weight`); i++) {
      const p = `${hfPrefix}${i}.`;
      const o = `${oaPrefix}${i}.`;
      const q = hf.get(`${p}self_attn.q_proj.weight`)!;
      const w = q.shape[0];
      const inW = new Float32Array(3 * w * w);
      const inB = new Float32Array(3 * w);
      ["q", "k", "v"].forEach((n, j) => {
        inW.set(hf.get(`${p}self_attn.${n}_proj.weight`)!.data, j * w * w);
        inB.set(hf.get(`${p}self_attn.${n}_proj.bias`)!.data, j * w);
      });
      put(`${o}attn.in_proj_weight`, [3 * w, w], inW);
      put(`${o}attn.in_proj_bias`, [3 * w], inB);
      for (const [a, b] of [
        ["self_attn.out_proj", "attn.out_proj"],
        ["layer_norm1", "ln_1"],
        ["layer_norm2", "ln_2"],
        ["mlp.fc1", "mlp.c_fc"],
        ["mlp.fc2", "mlp.c_proj"],
      ]) {
        for (const s of ["weight", "bias"]) {
          const t = hf.get(`${p}${a}.${s}`)!;
          put(`${o}${b}.${s}`, t.shape, t.data);
        }
      }
    }
  };
  const copy = (from: string, to: string) => {
    const t = hf.get(from)!;
    put(to, t.shape, t.data);
  };
  copy("text_model.embeddings.token_embedding.weight", "token_embedding.weight");
  copy("text_model.embeddings.position_embedding.weight", "positional_embedding");
  copy("text_model.final_layer_norm.weight", "ln_final.weight");
  copy("text_model.final_layer_norm.bias", "ln_final.bias");
  const tp = hf.get("text_projection.weight")!;
  put("text_projection", [tp.shape[1], tp.shape[0]], transpose(tp.data, tp.shape[0], tp.shape[1]));
  layers("text_model.encoder.layers.", "transformer.resblocks.");
  copy("vision_model.embeddings.class_embedding", "visual.class_embedding");
  copy("vision_model.embeddings.patch_embedding.weight", "visual.conv1.weight");
  copy("vision_model.embeddings.position_embedding.weight", "visual.positional_embedding");
  for (const s of ["weight", "bias"]) {
    copy(`vision_model.pre_layrnorm.${s}`, `visual.ln_pre.${s}`);
    copy(`vision_model.post_layernorm.${s}`, `visual.ln_post.${s}`);
  }
  const vp = hf.get("visual_projection.weight")!;
  put("visual.proj", [vp.shape[1], vp.shape[0]], transpose(vp.data, vp.shape[0], vp.shape[1]));
  layers("vision_model.encoder.layers.", "visual.transformer.resblocks.");
  copy("logit_scale", "logit_scale");
  return out;
}

function writeCheckpoint(
  name: string,
  model: string,
  tensors: Record<string, TensorToWrite>,
): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "config.json"),
    readFileSync(fixturePath("models", model, "config.json")),
  );
  writeFileSync(join(dir, "model.safetensors"), serializeSafetensors(tensors, { format: "pt" }));
  return dir;
}

async function textAndVisionErrors(bundleDir: string, model: string) {
  const g = goldens(model);
  const bundle = loadBundle(bundleDir);
  const text = await openBundleGraphWeb(bundle, "text");
  const ids = goldenIds(g, "input_ids_pad0");
  const n = ids.length / 77;
  const out = await text.run({ input_ids: text.tensor("int64", ids64(ids), [n, 77]) }, [
    "last_hidden_state",
    "text_embeds",
  ]);
  const vision = await openBundleGraphWeb(bundle, "vision");
  const img = await vision.run(
    { pixel_values: vision.tensor("float32", pixelValues(), [5, 3, 224, 224]) },
    ["image_embeds"],
  );
  return {
    hidden: maxAbsDiff(
      out.last_hidden_state.data as Float32Array,
      goldenFloat(g, "last_hidden_state_pad0"),
    ),
    text: maxAbsDiff(out.text_embeds.data as Float32Array, goldenFloat(g, "text_embeds")),
    image: maxAbsDiff(img.image_embeds.data as Float32Array, goldenFloat(g, "image_embeds")),
  };
}

describe("checkpoint naming and dtypes", () => {
  it("OpenAI/OpenCLIP names (in_proj split, text_projection/visual.proj transposed) give the goldens", async () => {
    const dir = writeCheckpoint("openai-names", "tiny-gelu", toOpenAiNames(hfTensors("tiny-gelu")));
    const out = join(tmp, "openai-bundle");
    await prepareBundle({ from: dir, out, quantization: "fp32" });
    const err = await textAndVisionErrors(out, "tiny-gelu");
    expect(err.hidden).toBeLessThanOrEqual(1e-4);
    expect(err.text).toBeLessThanOrEqual(1e-4);
    expect(err.image).toBeLessThanOrEqual(1e-4);
  });

  it("F16 weights load (error only from the fp16 rounding of the weights)", async () => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of hfTensors("tiny-openai"))
      tensors[name] = { dtype: "F16", shape: t.shape, data: toFloat16Array(t.data) };
    const dir = writeCheckpoint("f16", "tiny-openai", tensors);
    const out = join(tmp, "f16-bundle");
    await prepareBundle({ from: dir, out, quantization: "fp32" });
    const err = await textAndVisionErrors(out, "tiny-openai");
    expect(err.text).toBeLessThanOrEqual(2e-2);
    expect(err.text).toBeGreaterThan(0); // fp16 rounding is visible: the weights really were F16
    expect(err.image).toBeLessThanOrEqual(2e-2);
  });

  it("SD-style text_encoder/: bare CLIPTextConfig, sharded safetensors, sibling tokenizer/ folder", async () => {
    const root = join(tmp, "sd");
    const enc = join(root, "text_encoder");
    const tok = join(root, "tokenizer");
    mkdirSync(enc, { recursive: true });
    mkdirSync(tok, { recursive: true });
    const full = JSON.parse(
      readFileSync(fixturePath("models", "tiny-openai", "config.json"), "utf8"),
    );
    writeFileSync(
      join(enc, "config.json"),
      JSON.stringify({
        ...full.text_config,
        architectures: ["CLIPTextModelWithProjection"],
        projection_dim: 48,
      }),
    );
    const names = [...hfTensors("tiny-openai")].filter(
      ([n]) => n.startsWith("text_model.") || n === "text_projection.weight",
    );
    const shards: Record<string, TensorToWrite>[] = [{}, {}];
    const weightMap: Record<string, string> = {};
    names.forEach(([name, t], i) => {
      shards[i % 2][name] = { dtype: "F32", shape: t.shape, data: t.data };
      weightMap[name] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
    });
    shards.forEach((tensors, i) => {
      writeFileSync(
        join(enc, `model-0000${i + 1}-of-00002.safetensors`),
        serializeSafetensors(tensors),
      );
    });
    writeFileSync(
      join(enc, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    for (const f of [
      "vocab.json",
      "merges.txt",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ]) {
      writeFileSync(join(tok, f), readFileSync(fixturePath("models", "tiny-openai", f)));
    }
    const out = join(tmp, "sd-bundle");
    const { manifest } = await prepareBundle({ from: enc, out, quantization: "fp32" });
    expect(manifest.graphs.map((x) => x.kind)).toEqual(["text"]);
    expect(Object.keys(manifest.source.files).sort()).toEqual([
      "config.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
    ]);
    expect(manifest.tokenizer.files).toEqual(expect.arrayContaining(["vocab.json", "merges.txt"]));
    const g = goldens("tiny-openai");
    const s = await openBundleGraphWeb(loadBundle(out), "text");
    const ids = goldenIds(g, "input_ids_pad49407");
    const r = await s.run({ input_ids: s.tensor("int64", ids64(ids), [ids.length / 77, 77]) }, [
      "hidden_states_2",
      "text_embeds",
    ]);
    expect(
      maxAbsDiff(
        r.hidden_states_2.data as Float32Array,
        goldenFloat(g, "penultimate_pre_ln_pad49407"),
      ),
    ).toBeLessThanOrEqual(1e-4);
    expect(
      maxAbsDiff(r.text_embeds.data as Float32Array, goldenFloat(g, "text_embeds")),
    ).toBeLessThanOrEqual(1e-4);
  });

  it("names the tensor and both shapes when the weights do not fit the config", async () => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of hfTensors("tiny-openai"))
      tensors[name] = { dtype: "F32", shape: t.shape, data: t.data };
    const dir = writeCheckpoint("mismatch", "tiny-gelu", tensors); // tiny-gelu config, tiny-openai weights
    await expect(
      prepareBundle({ from: dir, out: join(tmp, "never"), quantization: "fp32" }),
    ).rejects.toThrow(
      /tensor text_model\.\S+ has shape \[[\d,]*64[\d,]*\], config expects \[[\d,]*96[\d,]*\]/,
    );
  });
});
