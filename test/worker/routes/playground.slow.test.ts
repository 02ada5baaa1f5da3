/**
 * Issue #15: the playground page in a real headless Chromium against `npm start` with a fixture
 * model and a real origin. Every number the page shows is checked against the API's own answer
 * to the same request. Screenshots of each panel (desktop and phone width) go to
 * test/.out/playground/ (ignored).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../helpers/chromium.ts";
import { fixturePath, repoRoot } from "../../helpers/fixtures.ts";
import { type RunningWorker, startWorker } from "../../helpers/npm-start.ts";
import {
  chipIntensity,
  cosine,
  dropFile,
  horizontalOverflow,
  readSafetensorsHeader,
  settled,
  shownChips,
  storedKey,
  textDecoration,
  typePrompt,
} from "./playground-page.ts";

const SHOTS = join(repoRoot, "test", ".out", "playground");
const PANELS = ["prompt", "conditioning", "compare", "score", "models"] as const;

interface Token {
  id: number;
  weight: number;
  part?: number;
  member?: number;
}

let worker: RunningWorker | undefined;
let browser: Browser | undefined;
let page: Page;

async function post<T>(path: string, body: object): Promise<T> {
  const response = await fetch(`${worker!.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  expect(response.status, JSON.stringify(json).slice(0, 500)).toBe(200);
  return json;
}

const chips = (selector?: string) => shownChips(page, selector);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  // int8: the model reports quality numbers (its quantisation report) for the models panel.
  worker = await startWorker({ model: "tiny-openai", origin: true, quant: "int8" });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${worker.url}/playground`);
  await page.waitForSelector("#model option", { state: "attached" });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

describe("the playground page against npm start", () => {
  it("shows a weighted A1111 prompt's tokens as chips with the weights /v1/tokenize gives", async () => {
    const prompt = "a (red:1.3) cat on a [blue] ((mat)) BREAK under the (sky:0.6)";
    await typePrompt(page, prompt, "a1111");
    const api = await post<{ tokens: Token[] }>("/v1/tokenize", { prompt, weighting: "a1111" });
    expect(await chips()).toEqual(api.tokens.map(({ id, weight }) => ({ id, weight })));
    expect(new Set(api.tokens.map((t) => t.weight)).size).toBeGreaterThan(3);
    expect(await page.locator("#chips .marker.break").count()).toBe(1);
    // The id is on hover (title), the weight's colour grows with |weight - 1|.
    const red = page.locator(`#chips .chip[data-weight="1.3"]`).first();
    expect(await red.getAttribute("title")).toMatch(/^id \d+ \| weight 1\.3/);
    expect(await chipIntensity(page, `#chips .chip[data-weight="1.3"]`)).toBeGreaterThan(
      await chipIntensity(page, `#chips .chip[data-weight="1"]`),
    );
  });

  it("shows a Compel blend as parts with their members and weights", async () => {
    const prompt = '("a red cat", "a (blue)++ dog").blend(0.3, 0.7)';
    await typePrompt(page, prompt, "compel");
    const api = await post<{ tokens: Token[]; parts: { members: { weight: number }[] }[] }>(
      "/v1/tokenize",
      { prompt, weighting: "compel" },
    );
    expect(await chips()).toEqual(api.tokens.map(({ id, weight }) => ({ id, weight })));
    expect(await page.locator("#chips .part").count()).toBe(api.parts.length);
    const members = page.locator("#chips .part .member");
    expect(await members.count()).toBe(2);
    expect(await members.nth(0).locator("h4").textContent()).toContain("weight 0.3");
    const second = await members
      .nth(1)
      .locator(".chip")
      .evaluateAll((n) => n.map((c) => Number(c.getAttribute("data-id"))));
    expect(second).toEqual(api.tokens.filter((t) => t.member === 1).map((t) => t.id));
  });

  it("shows where a long prompt is cut: the kept tokens, then the dropped ones struck through", async () => {
    const prompt =
      Array.from({ length: 50 }, (_, i) => (i % 2 ? "(dog:1.2)" : "cat")).join(" ") +
      " sunset over the sea ".repeat(10);
    await typePrompt(page, prompt, "a1111");
    const api = await post<{ tokens: Token[]; dropped_tokens: number; truncated: boolean }>(
      "/v1/tokenize",
      { prompt, weighting: "a1111" },
    );
    expect(api.truncated).toBe(true);
    expect(await page.getAttribute("#chips .marker.cut", "data-dropped")).toBe(
      String(api.dropped_tokens),
    );
    expect(await chips()).toEqual(api.tokens.map(({ id, weight }) => ({ id, weight })));
    const dropped = await chips("#chips .chip.dropped");
    const full = await post<{ tokens: Token[] }>("/v1/tokenize", {
      prompt,
      weighting: "a1111",
      long_prompt: "chunk",
    });
    expect(dropped).toEqual(
      full.tokens.slice(api.tokens.length).map(({ id, weight }) => ({ id, weight })),
    );
    expect(await textDecoration(page, "#chips .chip.dropped")).toBe("line-through");
    expect(await page.textContent("#prompt-summary")).toContain(`${api.dropped_tokens} dropped`);
    await page.screenshot({ path: join(SHOTS, "prompt-long-desktop.png"), fullPage: false });

    // Chunk mode keeps everything: a chunk boundary instead of a cut.
    await page.selectOption("#long-prompt", "chunk");
    await settled(page);
    expect(await page.locator("#chips .marker.boundary").count()).toBe(1);
    expect(await page.locator("#chips .marker.cut").count()).toBe(0);
    expect(await chips()).toEqual(full.tokens.map(({ id, weight }) => ({ id, weight })));
  });

  it("shows a syntax error inline, at the character the parser names", async () => {
    const prompt = '("a cat", "a dog").blend(1, 2) extra words';
    await typePrompt(page, prompt, "compel", "truncate");
    const response = await fetch(`${worker!.url}/v1/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, weighting: "compel" }),
    });
    expect(response.status).toBe(422);
    const { error } = (await response.json()) as { error: { message: string } };
    const at = Number(/\(at char (\d+)\)/.exec(error.message)![1]);
    expect(await page.textContent("#prompt-error")).toContain(error.message);
    expect(await page.getAttribute("#prompt-error .at", "data-at")).toBe(String(at));
    expect(await page.textContent("#prompt-error mark")).toBe(prompt[at]);
    await page
      .locator("#prompt-panel")
      .screenshot({ path: join(SHOTS, "prompt-error-desktop.png") });

    // A1111: an unparsable weight is marked where it starts.
    await typePrompt(page, "a (cat:1.2.3) on a mat", "a1111");
    expect(await page.getAttribute("#prompt-error .at", "data-at")).toBe("7");
    expect(await page.textContent("#prompt-error mark")).toBe("1");
  });

  it("draws the cosine heatmap with the numbers /v1/embeddings gives", async () => {
    const prompts = [
      "a photo of a cat",
      "a photo of a kitten",
      "a red sports car",
      "an astronaut on a horse",
      "a bowl of soup",
    ];
    await page.fill("#compare-prompts", prompts.join("\n"));
    await page.click("#compare");
    await page.waitForSelector(`.heat td[data-i="4"][data-j="4"]`);
    const api = await post<{ data: { index: number; embedding: number[] }[] }>("/v1/embeddings", {
      input: prompts,
    });
    const vectors = api.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
    const cells = await page.$$eval(".heat td", (nodes) =>
      nodes.map((n) => ({
        i: Number(n.getAttribute("data-i")),
        j: Number(n.getAttribute("data-j")),
        value: Number(n.getAttribute("data-value")),
        text: n.textContent,
      })),
    );
    expect(cells).toHaveLength(prompts.length ** 2);
    for (const cell of cells) {
      const expected = cosine(vectors[cell.i], vectors[cell.j]);
      expect(cell.value).toBeCloseTo(expected, 12);
      expect(cell.text).toBe(expected.toFixed(3));
    }
    expect(new Set(cells.map((c) => c.text)).size).toBeGreaterThan(5);

    // 17 prompts: a readable message, no request.
    await page.fill(
      "#compare-prompts",
      Array.from({ length: 17 }, (_, i) => `prompt ${i}`).join("\n"),
    );
    await page.click("#compare");
    expect(await page.textContent("#compare-error")).toContain("Up to 16 prompts; you entered 17");
    await page.fill("#compare-prompts", prompts.join("\n"));
    await page.click("#compare");
    await page.waitForSelector(`.heat td[data-i="4"][data-j="4"]`);
  });

  it("scores uploaded fixture photos with the numbers /v1/score gives", async () => {
    const files = ["astronaut.png", "chelsea.png"].map((f) => fixturePath("images", f));
    const captions = ["an astronaut", "a photo of a cat", "a bowl of soup"];
    // One picked with the file input, one dropped on the drop zone.
    await page.setInputFiles("#images", files[0]);
    await dropFile(page, "#drop", files[1]);
    expect(await page.locator("#thumbs img").count()).toBe(2);
    await page.fill("#captions", captions.join("\n"));
    await page.click("#score");
    await page.waitForSelector("#aggregate", { timeout: 120_000 });
    const api = await post<{ scores: number[][]; aggregate: { clip_score: number } }>("/v1/score", {
      images: files.map((f) => ({ b64: readFileSync(f).toString("base64") })),
      prompts: captions,
    });
    const cells = await page.$$eval(".scores td[data-value]", (nodes) =>
      nodes.map((n) => ({
        i: Number(n.getAttribute("data-i")),
        j: Number(n.getAttribute("data-j")),
        value: Number(n.getAttribute("data-value")),
      })),
    );
    expect(cells).toHaveLength(files.length * captions.length);
    for (const cell of cells) expect(cell.value).toBeCloseTo(api.scores[cell.i][cell.j], 9);
    expect(Number(await page.getAttribute("#aggregate", "data-value"))).toBeCloseTo(
      api.aggregate.clip_score,
      9,
    );
    expect(await page.textContent("#aggregate strong")).toBe(api.aggregate.clip_score.toFixed(2));
    expect(await page.locator(".bars").count()).toBe(files.length);
    expect(await page.locator(".bars .fill").count()).toBe(files.length * captions.length);
  });

  it("downloads the conditioning as a valid safetensors file with the shapes it shows", async () => {
    await typePrompt(page, "a (red:1.2) cat", "a1111");
    await page.fill("#clip-skip", "1");
    await page.selectOption("#format", "safetensors");
    await page.click("#encode");
    await page.waitForSelector("#download");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    expect(download.suggestedFilename()).toBe("conditioning.safetensors");
    const bytes = readFileSync(await download.path());
    const { headerLength, metadata, tensors } = readSafetensorsHeader(bytes);
    expect(metadata).toBeTypeOf("object");
    const shown = await page.$$eval(".shapes tr[data-tensor]", (rows) =>
      rows.map((r) => [r.getAttribute("data-tensor"), r.querySelectorAll("td")[1].textContent]),
    );
    expect(Object.keys(tensors).sort()).toEqual(shown.map(([name]) => name).sort());
    let end = 0;
    for (const [name, text] of shown) {
      const t = tensors[name!];
      expect(t.dtype).toBe("F32");
      expect(`[${t.shape.join(", ")}]`).toBe(text);
      expect(t.data_offsets[1] - t.data_offsets[0]).toBe(t.shape.reduce((a, b) => a * b, 1) * 4);
      end = Math.max(end, t.data_offsets[1]);
    }
    expect(8 + headerLength + end).toBe(bytes.length);

    // npy: prompt_embeds alone, its shape in the header the page shows.
    await page.selectOption("#format", "npy");
    await page.click("#encode");
    await page.waitForSelector("#download");
    const [npy] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    expect(npy.suggestedFilename()).toBe("prompt_embeds.npy");
    const npyBytes = readFileSync(await npy.path());
    expect(npyBytes.subarray(0, 6).toString("latin1")).toBe("\x93NUMPY");
    const npyHeader = npyBytes.subarray(10, 10 + npyBytes.readUInt16LE(8)).toString("latin1");
    const shape = /'shape': \(([\d, ]+)\)/
      .exec(npyHeader)![1]
      .split(",")
      .map((d) => Number(d));
    expect(`[${shape.join(", ")}]`).toBe(
      await page.textContent(`.shapes tr[data-tensor="prompt_embeds"] td:nth-child(2)`),
    );
    expect(npyBytes.length - 10 - npyBytes.readUInt16LE(8)).toBe(shape.reduce((a, b) => a * b) * 4);
    await page.selectOption("#format", "safetensors");

    // An API error reads as a message: clip skip past the model's layers.
    await page.fill("#clip-skip", "40");
    await page.click("#encode");
    await page.waitForSelector("#conditioning-error:not([hidden])");
    expect(await page.textContent("#conditioning-error")).toMatch(/^HTTP 4\d\d \w+: .*clip/i);
    await page.fill("#clip-skip", "1");
    await page.click("#encode");
    await page.waitForSelector("#download");
  });

  it("keeps the API key in sessionStorage and sends it as a bearer token", async () => {
    await page.fill("#api-key", "playground-test-key");
    const request = page.waitForRequest((r) => r.url().endsWith("/v1/models"));
    await page.press("#api-key", "Enter");
    await page.locator("#api-key").blur();
    expect((await request).headers().authorization).toBe("Bearer playground-test-key");
    expect(await storedKey(page)).toBe("playground-test-key");
    await page.fill("#api-key", "");
    await page.locator("#api-key").blur();
    await expect.poll(() => storedKey(page)).toBeNull();
  });

  it("shows the model's dims, quantisation and quality numbers from /v1/models", async () => {
    const models = (await (await fetch(`${worker!.url}/v1/models`)).json()) as {
      data: {
        id: string;
        dims: Record<string, number>;
        quantization: string[];
        accuracy: Record<string, number | string | Record<string, number | boolean>>;
      }[];
    };
    const model = models.data[0];
    const row = (key: string) => page.textContent(`#model-info tr[data-key="${key}"] td`);
    expect(await page.inputValue("#model")).toBe(model.id);
    expect(Object.keys(model.dims).length).toBeGreaterThan(1);
    for (const [k, v] of Object.entries(model.dims)) expect(await row(`dims.${k}`)).toBe(String(v));
    expect(await row("quantization")).toBe(model.quantization.join(", "));
    expect(model.quantization).toContain("int8");
    const { accuracy } = model;
    expect(await row("accuracy of")).toBe(`${accuracy.quantization} vs fp32`);
    expect(await row("token cosine min")).toBe((accuracy.token_cosine_min as number).toFixed(5));
    expect(await row("token cosine mean")).toBe((accuracy.token_cosine_mean as number).toFixed(5));
    expect(await row("text_embeds cosine min")).toBe(
      (accuracy.text_embeds_cosine_min as number).toFixed(5),
    );
    // The guard's numbers when prepare ran it (npm start's prepare may not): shown, or no rows.
    const guard = accuracy.guard as Record<string, number | boolean> | undefined;
    const guardRows = page.locator(`#model-info tr[data-key^="guard"]`);
    if (!guard) expect(await guardRows.count()).toBe(0);
    else {
      expect(await row("guard: targets met")).toBe(guard.targets_met ? "yes" : "no");
      expect(await row("guard: fp32 linears")).toMatch(
        new RegExp(`^${guard.fp32_linears} of ${guard.linears} \\(${guard.calibration_prompts} `),
      );
    }
  });

  it("says plainly when the worker has no image origin", async () => {
    const other = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    // The same worker's /v1/models, as a worker without ORIGIN_URL answers it (no /v1/score).
    await other.route("**/v1/models", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { data: { serves: string[] }[] };
      for (const m of body.data) m.serves = m.serves.filter((s) => s !== "/v1/score");
      await route.fulfill({ response, json: body });
    });
    await other.goto(`${worker!.url}/`);
    await other.waitForSelector("#score-origin:not([hidden])");
    expect(await other.textContent("#score-origin")).toMatch(/No image origin is configured/);
    expect(await other.isDisabled("#score")).toBe(true);
    await other.close();
  });

  it("reflows at phone width; screenshots of every panel at desktop and phone width", async () => {
    // The prompt panel shows weights, a BREAK and the cut.
    const prompt = `masterpiece, a photo of an (astronaut:1.3) riding a [horse] on the ((moon)) BREAK ${"glowing stars, ".repeat(24)}(nebula:0.7)`;
    await typePrompt(page, prompt, "a1111");
    await page.waitForSelector("#chips .marker.cut");
    await page.selectOption("#format", "safetensors");
    await page.click("#encode");
    await page.waitForSelector("#download");
    for (const [name, width] of [
      ["desktop", 1280],
      ["phone", 390],
    ] as const) {
      await page.setViewportSize({ width, height: 900 });
      for (const panel of PANELS) {
        await page
          .locator(`#${panel}-panel`)
          .screenshot({ path: join(SHOTS, `${panel}-${name}.png`) });
      }
      await page.screenshot({ path: join(SHOTS, `page-${name}.png`), fullPage: true });
      const overflow = await horizontalOverflow(page);
      expect(overflow, `${name}: the page is wider than the screen`).toBeLessThanOrEqual(0);
    }
  });
});
