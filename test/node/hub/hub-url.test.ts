import { describe, expect, it } from "vitest";
import { ClipEdgeError } from "../../../conditioning/errors.ts";
import {
  DEFAULT_HUB_ENDPOINT,
  normalizeRepoPath,
  pickEndpoint,
  pickToken,
  resolveFileUrl,
  tokenizerFolderFor,
  validateRepoId,
} from "../../../node/hub/hub-url.ts";
import { parseShardIndex } from "../../../node/hub/shard-index.ts";

describe("hub URLs and names", () => {
  it("builds resolve URLs with the revision as one encoded segment", () => {
    expect(resolveFileUrl("https://hf.co", "a/b", "refs/pr/3", "text_encoder/config.json")).toBe(
      "https://hf.co/a/b/resolve/refs%2Fpr%2F3/text_encoder/config.json",
    );
  });

  it("picks --endpoint over HF_ENDPOINT over the public hub, and HF_TOKEN for auth", () => {
    expect(pickEndpoint(undefined, {})).toBe(DEFAULT_HUB_ENDPOINT);
    expect(pickEndpoint(undefined, { HF_ENDPOINT: "" })).toBe(DEFAULT_HUB_ENDPOINT);
    expect(pickEndpoint(undefined, { HF_ENDPOINT: "http://mirror:8/" })).toBe("http://mirror:8");
    expect(pickEndpoint("http://flag", { HF_ENDPOINT: "http://mirror" })).toBe("http://flag");
    expect(() => pickEndpoint("ftp://x", {})).toThrow(ClipEdgeError);
    expect(pickToken({ HF_TOKEN: " hf_x " })).toBe("hf_x");
    expect(pickToken({ HF_TOKEN: "" })).toBeUndefined();
  });

  it("maps diffusers text encoder folders to their tokenizer folders", () => {
    expect(tokenizerFolderFor("text_encoder")).toBe("tokenizer");
    expect(tokenizerFolderFor("text_encoder_2")).toBe("tokenizer_2");
    expect(tokenizerFolderFor("sdxl/text_encoder_2")).toBe("sdxl/tokenizer_2");
    expect(tokenizerFolderFor("")).toBe("");
    expect(tokenizerFolderFor("clip")).toBe("clip");
  });

  it("rejects path-like repo ids and subfolders", () => {
    expect(validateRepoId("openai/clip-vit-large-patch14")).toBe("openai/clip-vit-large-patch14");
    for (const bad of ["../x", "a/b/c", "a/..", "", "a b/c"]) {
      expect(() => validateRepoId(bad), bad).toThrow(/not a hub repo id/);
    }
    expect(normalizeRepoPath("text_encoder/")).toBe("text_encoder");
    expect(() => normalizeRepoPath("../tokenizer")).toThrow(/relative path/);
    expect(() => normalizeRepoPath("/abs")).toThrow(/relative path/);
  });

  it("lists the distinct shards of an index and rejects names outside the folder", () => {
    const text = JSON.stringify({
      weight_map: { a: "m-1.safetensors", b: "m-2.safetensors", c: "m-1.safetensors" },
    });
    expect(parseShardIndex(text, "idx")).toEqual(["m-1.safetensors", "m-2.safetensors"]);
    expect(() =>
      parseShardIndex(JSON.stringify({ weight_map: { a: "../x.safetensors" } }), "idx"),
    ).toThrow(/tensor 'a'/);
    expect(() => parseShardIndex("{}", "idx")).toThrow(/weight_map/);
    expect(() => parseShardIndex("nope", "idx")).toThrow(/not valid JSON/);
  });
});
