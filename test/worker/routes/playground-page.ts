/**
 * Driving the playground page (playground.slow.test.ts): what its elements show, read in the
 * browser, and the independent checks the test compares them with (cosine, safetensors header).
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Page } from "playwright-core";

// Browser globals of the callbacks that run in the page (the project's lib has no DOM types).
declare const document: { documentElement: { scrollWidth: number } };
declare const window: { innerWidth: number };
declare const sessionStorage: { getItem(key: string): string | null };
declare function getComputedStyle(node: unknown): {
  textDecorationLine: string;
  getPropertyValue(name: string): string;
};
declare class DataTransfer {
  items: { add(file: File): void };
}

/** The chips as the page shows them: id and weight from their attributes. */
export const shownChips = (page: Page, selector = "#chips .chip:not(.dropped)") =>
  page.$$eval(selector, (nodes) =>
    nodes.map((n) => ({
      id: Number(n.getAttribute("data-id")),
      weight: Number(n.getAttribute("data-weight")),
    })),
  );

/** Waits until the prompt view shows the answer for the prompt panel's current state. */
export const settled = (page: Page) =>
  page.waitForSelector(`#prompt-panel[aria-busy="false"]`, { state: "attached" });

/** Sets the prompt panel and waits until the page shows the answer for exactly that. */
export async function typePrompt(
  page: Page,
  prompt: string,
  syntax: string,
  longPrompt = "truncate",
) {
  await page.selectOption("#syntax", syntax);
  await page.selectOption("#long-prompt", longPrompt);
  await page.fill("#prompt", prompt);
  await settled(page);
}

/** The `--w` colour intensity of the first chip matching `selector`. */
export const chipIntensity = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((n) => Number(getComputedStyle(n).getPropertyValue("--w")));

export const textDecoration = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((n) => getComputedStyle(n).textDecorationLine);

/** Drops an image file on `selector` as a user dragging it from the desktop would. */
export async function dropFile(page: Page, selector: string, path: string): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ b64, name }) => {
      const data = new DataTransfer();
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], name, { type: "image/png" }));
      return data;
    },
    { b64: readFileSync(path).toString("base64"), name: basename(path) },
  );
  await page.dispatchEvent(selector, "drop", { dataTransfer: transfer });
}

export const storedKey = (page: Page) =>
  page.evaluate(() => sessionStorage.getItem("clip-edge-api-key"));

/** How many pixels the page is wider than its viewport (0 or less: it reflows). */
export const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    dot += x * b[i];
    na += x * x;
    nb += b[i] * b[i];
  });
  return dot / (Math.sqrt(na) * Math.sqrt(nb));
}

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The header of a safetensors file, read by hand (8-byte little-endian length, JSON). */
export function readSafetensorsHeader(bytes: Buffer): {
  headerLength: number;
  metadata: unknown;
  tensors: Record<string, SafetensorsEntry>;
} {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  const { __metadata__: metadata, ...tensors } = header;
  return { headerLength, metadata, tensors };
}
