/**
 * The worker's tensor files are the core serializer's bytes, the ones the CLI writes:
 * the JSON answer's tensors and metadata, serialised by `serializeTensors` with the CLI's
 * metadata strings, equal the worker's safetensors / npy body byte for byte.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { conditioningMetadataStrings } from "../../conditioning/conditioner/metadata.ts";
import type { ConditioningMetadata } from "../../conditioning/conditioner/types.ts";
import { serializeTensors } from "../../conditioning/formats/serialize-tensors.ts";
import { post } from "./helpers/client.ts";
import { seedBundle } from "./helpers/seed.ts";

beforeAll(async () => {
  await seedBundle();
});

interface JsonAnswer {
  metadata: ConditioningMetadata;
  tensors: Record<string, { shape: number[]; data: number[] }>;
}

describe("tensor files: worker bytes = serializeTensors bytes (the CLI's)", () => {
  it.each([
    ["safetensors", "float32"],
    ["safetensors", "float16"],
    ["npy", "float32"],
    ["npy", "float16"],
  ] as const)("%s %s", async (format, dtype) => {
    const request = { prompt: "a red cube", negative_prompt: "blurry", dtype };
    const json = (await (await post("/v1/conditioning", request)).json()) as JsonAnswer;
    const file = await post("/v1/conditioning", { ...request, format });
    expect(file.status).toBe(200);
    const tensors = Object.fromEntries(
      Object.entries(json.tensors).map(([name, t]) => [
        name,
        { shape: t.shape, data: Float32Array.from(t.data) },
      ]),
    );
    const expected = serializeTensors(tensors, {
      format,
      dtype,
      metadata: conditioningMetadataStrings(json.metadata),
      tensor: "prompt_embeds",
    });
    expect(file.headers.get("content-type")).toBe(expected.contentType);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(expected.bytes);
  });
});
