/**
 * Scores against a running worker's online route, `POST /v1/score`: a chunk of images (sent
 * as base64) with the distinct prompts of the chunk; each image's cosine is read at its own
 * prompt (`images[i].cosines[k]`). Chunks stay under the worker's caps (MAX_PROMPTS images,
 * the image body limit). A chunk the worker refuses as a bad request is split until the
 * offending image stands alone, which is recorded as that item's error; 429, 5xx and
 * network failures are retried with backoff (Retry-After when given), then stop the run.
 */
import { readFileSync } from "node:fs";
import { ClipEdgeError } from "../../conditioning/errors.ts";
import type { EvalItem } from "./eval-inputs.ts";
import type { EvalOutcome, EvalScorer } from "./eval-runner.ts";

export interface OnlineScorerOptions {
  /** Worker base URL (`http://127.0.0.1:8787`). */
  url: string;
  apiKey?: string;
  /** Model id sent with each request (default: the worker's default model). */
  model?: string;
  /** Images a request (default 16; the worker's MAX_PROMPTS caps it, 64 by default). */
  chunkSize?: number;
  /** Most base64 bytes of images in one request (default 6 MiB, under MAX_IMAGE_BODY_BYTES). */
  maxBodyBytes?: number;
  retries?: number;
  fetch?: typeof fetch;
  readFile?: (file: string) => Uint8Array;
  sleep?: (ms: number) => Promise<void>;
}

interface ScoreResponse {
  images: { index: number; cosines: number[] }[];
}

/** Statuses that blame the request's content (an image), not the service or the caller. */
const CONTENT_STATUSES = new Set([400, 413, 415, 422]);

export function scoreEndpoint(url: string): string {
  return `${url.replace(/\/+$/, "")}/v1/score`;
}

/** The /v1/score request body of a set of items: images in order, distinct prompts. */
export function scoreRequestBody(
  images: readonly string[],
  prompts: readonly string[],
  model?: string,
): { body: Record<string, unknown>; promptIndex: number[] } {
  const distinct = [...new Set(prompts)];
  const body: Record<string, unknown> = {
    images: images.map((b64) => ({ b64 })),
    prompts: distinct,
  };
  if (model) body.model = model;
  return { body, promptIndex: prompts.map((p) => distinct.indexOf(p)) };
}

export function createOnlineScorer(options: OnlineScorerOptions): EvalScorer {
  const doFetch = options.fetch ?? fetch;
  const readFile = options.readFile ?? ((file: string) => new Uint8Array(readFileSync(file)));
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const retries = options.retries ?? 5;
  const maxBytes = options.maxBodyBytes ?? 6 * 1024 * 1024;
  const endpoint = scoreEndpoint(options.url);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const post = async (body: unknown): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await doFetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
        });
      } catch (error) {
        failure = error;
      }
      const retryable = !response || response.status === 429 || response.status >= 500;
      if (!retryable && response) return response;
      if (attempt >= retries) {
        if (response) return response;
        throw new ClipEdgeError(
          "network",
          `POST ${endpoint} failed ${attempt + 1} times: ${(failure as Error)?.message}`,
          { cause: failure },
        );
      }
      await response?.body?.cancel();
      const after = Number(response?.headers.get("retry-after"));
      await sleep(after > 0 ? after * 1000 : Math.min(500 * 2 ** attempt, 10_000));
    }
  };

  const scoreSet = async (items: readonly EvalItem[], b64: string[]): Promise<EvalOutcome[]> => {
    const { body, promptIndex } = scoreRequestBody(
      b64,
      items.map((i) => i.prompt),
      options.model,
    );
    const response = await post(body);
    if (response.ok) {
      const json = (await response.json()) as ScoreResponse;
      return items.map((item, i) => {
        const cosine = json.images?.[i]?.cosines?.[promptIndex[i]];
        if (typeof cosine !== "number") {
          throw new ClipEdgeError(
            "malformed",
            `POST ${endpoint}: the answer has no cosine for image ${i} (${item.file})`,
          );
        }
        return { id: item.id, cosine };
      });
    }
    const text = await response.text();
    if (CONTENT_STATUSES.has(response.status)) {
      if (items.length === 1) {
        return [{ id: items[0].id, error: `HTTP ${response.status}: ${text.slice(0, 500)}` }];
      }
      const half = Math.ceil(items.length / 2);
      return [
        ...(await scoreSet(items.slice(0, half), b64.slice(0, half))),
        ...(await scoreSet(items.slice(half), b64.slice(half))),
      ];
    }
    throw new ClipEdgeError(
      response.status === 401 || response.status === 403 ? "unauthorized" : "network",
      `POST ${endpoint}: HTTP ${response.status}: ${text.slice(0, 500)}`,
    );
  };

  return {
    chunkSize: options.chunkSize ?? 16,
    async score(items) {
      const out: EvalOutcome[] = [];
      let group: EvalItem[] = [];
      let groupB64: string[] = [];
      let bytes = 0;
      const flush = async () => {
        if (group.length > 0) out.push(...(await scoreSet(group, groupB64)));
        group = [];
        groupB64 = [];
        bytes = 0;
      };
      for (const item of items) {
        let data: Uint8Array;
        try {
          data = readFile(item.file);
        } catch (error) {
          out.push({ id: item.id, error: `cannot read ${item.file}: ${(error as Error).message}` });
          continue;
        }
        const b64 = Buffer.from(data).toString("base64");
        if (group.length > 0 && bytes + b64.length > maxBytes) await flush();
        group.push(item);
        groupB64.push(b64);
        bytes += b64.length;
      }
      await flush();
      return out;
    },
  };
}
