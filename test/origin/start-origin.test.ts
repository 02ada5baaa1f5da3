import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOriginArgs } from "../../origin/cli-options.ts";
import { type StartedOrigin, startOrigin } from "../../origin/start-origin.ts";
import { fixturePath } from "../helpers/fixtures.ts";
import {
  FIXTURE_IMAGES,
  maxAbsDiff,
  readFixtureImage,
  readTensor,
  tinyOpenaiDir,
} from "./helpers.ts";

const SECRET = "start-origin-secret-0123";

describe("npm run origin on the tiny-openai HF folder (prepared on first use)", () => {
  let cache: string;
  let started: StartedOrigin;
  const logs: string[] = [];

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), "clip-edge-origin-"));
    const options = parseOriginArgs(
      [
        "--model",
        tinyOpenaiDir(),
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--provider",
        "cuda",
        "--cache-dir",
        cache,
      ],
      { ORIGIN_SECRET: SECRET },
    );
    started = await startOrigin(options, (line) => logs.push(line));
  });

  afterAll(async () => {
    await started?.close();
    rmSync(cache, { recursive: true, force: true });
  });

  it("logs the provider it actually runs on (CUDA falls back to CPU where it cannot start)", async () => {
    const ready = await fetch(`${started.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { provider: string; vision: boolean; text: boolean };
    expect(body).toMatchObject({ vision: true, text: true });
    expect(["cuda", "cpu"]).toContain(body.provider);
    if (body.provider === "cpu") {
      expect(logs.join("\n")).toMatch(
        /CUDA execution provider could not start .*falling back to CPU/,
      );
    }
    expect(logs.filter((l) => l.includes("could not start")).length).toBeLessThanOrEqual(1);
    expect(logs.join("\n")).toContain("preparing");
  });

  it("serves golden image_embeds over HTTP", async () => {
    const golden = readTensor(
      fixturePath("models", "tiny-openai", "golden.safetensors"),
      "image_embeds",
    );
    const images = FIXTURE_IMAGES.map((n) => Buffer.from(readFixtureImage(n)).toString("base64"));
    const res = await fetch(`${started.url}/v1/image-embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
      body: JSON.stringify({ images }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; data: { image_embeds: number[] }[] };
    expect(body.model).toBe("tiny-openai");
    for (const [i, d] of body.data.entries()) {
      expect(maxAbsDiff(d.image_embeds, golden.data, i * golden.shape[1])).toBeLessThanOrEqual(
        1e-4,
      );
    }
  });

  it("serves golden text_embeds and pooled for the golden prompts", async () => {
    const file = fixturePath("models", "tiny-openai", "golden.safetensors");
    const textEmbeds = readTensor(file, "text_embeds");
    const pooled = readTensor(file, "pooled");
    const prompts = (
      JSON.parse(readFileSync(fixturePath("models", "tiny-openai", "golden.json"), "utf8")) as {
        prompts: { text: string; truncated: boolean }[];
      }
    ).prompts;
    const res = await fetch(`${started.url}/v1/text-embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
      body: JSON.stringify({ input: prompts.map((p) => p.text) }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: { index: number; text_embeds: number[]; pooled: number[]; truncated: boolean }[];
    };
    expect(body.data).toHaveLength(prompts.length);
    let worst = 0;
    for (const [i, d] of body.data.entries()) {
      expect(d.truncated).toBe(prompts[i].truncated);
      worst = Math.max(worst, maxAbsDiff(d.text_embeds, textEmbeds.data, i * textEmbeds.shape[1]));
      worst = Math.max(worst, maxAbsDiff(d.pooled, pooled.data, i * pooled.shape[1]));
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it("reuses the prepared bundle on the next start", async () => {
    const again = await startOrigin(
      parseOriginArgs(
        ["--model", tinyOpenaiDir(), "--port", "0", "--host", "127.0.0.1", "--cache-dir", cache],
        {
          ORIGIN_SECRET: SECRET,
        },
      ),
      (line) => logs.push(`second: ${line}`),
    );
    await again.close();
    expect(
      logs.some((l) => l.startsWith("second: origin: using the bundle prepared earlier")),
    ).toBe(true);
  });

  it("rejects bad command lines with usage errors", () => {
    expect(() => parseOriginArgs([], { ORIGIN_SECRET: SECRET })).toThrow(/--model/);
    expect(() => parseOriginArgs(["--model", "x"], {})).toThrow(/ORIGIN_SECRET/);
    expect(() =>
      parseOriginArgs(["--model", "x", "--provider", "tpu"], { ORIGIN_SECRET: SECRET }),
    ).toThrow(/cuda or cpu/);
    expect(() =>
      parseOriginArgs(["--model", "x", "--port", "-1"], { ORIGIN_SECRET: SECRET }),
    ).toThrow(/--port/);
  });
});

describe("origin on an int8 bundle with an external token table", () => {
  it.each([
    { stages: 1, label: "one graph" },
    { stages: 3, label: "three stages (prepare --stages 3, external data)" },
  ])(
    "feeds token_embeds from the table and stays close to the fp32 goldens: $label",
    async ({ stages }) => {
      const { prepareBundle } = await import("../../node/prepare/prepare-bundle.ts");
      const cache = mkdtempSync(join(tmpdir(), "clip-edge-int8-"));
      try {
        const out = join(cache, "bundle");
        await prepareBundle({
          from: tinyOpenaiDir(),
          out,
          quantization: "int8",
          tokenEmbedding: "external-int8",
          towers: ["text"],
          skipReport: true,
          stages,
          ...(stages > 1 ? { externalDataThreshold: 1024 } : {}),
        });
        const started = await startOrigin(
          parseOriginArgs(
            ["--model", out, "--port", "0", "--host", "127.0.0.1", "--cache-dir", cache],
            {
              ORIGIN_SECRET: SECRET,
            },
          ),
          () => {},
        );
        try {
          const info = (await (
            await fetch(`${started.url}/v1/info`, {
              headers: { authorization: `Bearer ${SECRET}` },
            })
          ).json()) as { textGraph: { inputNames: string[] } };
          expect(info.textGraph.inputNames).toContain("input_ids");
          const res = await fetch(`${started.url}/v1/text-embeddings`, {
            method: "POST",
            headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
            body: JSON.stringify({
              input: ["milk pouring from a glass into a bowl"],
              normalize: true,
            }),
          });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { data: { text_embeds: number[] }[] };
          const golden = readTensor(
            fixturePath("models", "tiny-openai", "golden.safetensors"),
            "text_embeds_normalized",
          );
          const e = body.data[0].text_embeds;
          let cos = 0;
          for (let i = 0; i < e.length; i++) cos += e[i] * golden.data[i];
          expect(cos).toBeGreaterThan(0.98);
        } finally {
          await started.close();
        }
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    },
  );
});

describe("--model as a hub id", () => {
  it("serves a repo already pulled into the cache, and names the pull command when it is not", async () => {
    const cache = mkdtempSync(join(tmpdir(), "clip-edge-hub-"));
    try {
      expect(() =>
        parseOriginArgs(["--model", "acme/tiny-clip", "--cache-dir", cache], {
          ORIGIN_SECRET: SECRET,
        }),
      ).not.toThrow();
      await expect(
        startOrigin(
          parseOriginArgs(["--model", "acme/tiny-clip", "--port", "0", "--cache-dir", cache], {
            ORIGIN_SECRET: SECRET,
          }),
          () => {},
        ),
      ).rejects.toThrow(/clip-edge pull acme\/tiny-clip/);
      const dir = join(cache, "hub", "acme--tiny-clip", "main");
      mkdirSync(dir, { recursive: true });
      const files = [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "vocab.json",
        "merges.txt",
      ];
      for (const f of files) copyFileSync(join(tinyOpenaiDir(), f), join(dir, f));
      writeFileSync(
        join(dir, "clip-edge-pull.json"),
        JSON.stringify({
          repo: "acme/tiny-clip",
          revision: "main",
          subfolder: "",
          endpoint: "https://huggingface.co",
          files: files.map((name) => ({
            name,
            path: name,
            size: statSync(join(dir, name)).size,
            sha256: "",
          })),
        }),
      );
      const started = await startOrigin(
        parseOriginArgs(
          ["--model", "acme/tiny-clip", "--port", "0", "--host", "127.0.0.1", "--cache-dir", cache],
          {
            ORIGIN_SECRET: SECRET,
          },
        ),
        () => {},
      );
      try {
        expect((await fetch(`${started.url}/readyz`)).status).toBe(200);
      } finally {
        await started.close();
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
