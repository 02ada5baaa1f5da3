/**
 * A stand-in for the worker's batch API (issue #16), written against the contract only,
 * for testing `clip-edge eval`'s batch client with the real `openai` SDK: POST /v1/files
 * (multipart, purpose batch), POST /v1/batches, GET /v1/batches/{id} (in_progress on the
 * first poll, then completed), GET /v1/files/{id}/content. Each `/v1/score` line is answered
 * by `score(imageBytes, prompt)`: a number is the cosine, a string an error (error file).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface FakeBatchServer {
  url: string;
  /** Every request, `METHOD path`. */
  log: string[];
  /** Input files as uploaded. */
  uploads: { purpose: string; text: string }[];
  batchesCreated: Record<string, unknown>[];
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeBatchServer(
  score: (image: Buffer, prompt: string) => number | string,
): Promise<FakeBatchServer> {
  const files = new Map<string, string>();
  const batches = new Map<string, { input: string; polls: number; out?: string; err?: string }>();
  const log: string[] = [];
  const uploads: { purpose: string; text: string }[] = [];
  const batchesCreated: Record<string, unknown>[] = [];
  let next = 1;
  const batchObject = (id: string) => {
    const b = batches.get(id);
    if (!b) return undefined;
    const lines = (files.get(b.input) ?? "").split("\n").filter(Boolean);
    b.polls++;
    const done = b.polls > 1;
    if (done && !b.out) {
      const out: string[] = [];
      const err: string[] = [];
      for (const line of lines) {
        const { custom_id, body } = JSON.parse(line);
        const result = score(Buffer.from(body.images[0].b64, "base64"), body.prompts[0]);
        const rid = `batch_req_${next++}`;
        if (typeof result === "number") {
          out.push(
            JSON.stringify({
              id: rid,
              custom_id,
              response: {
                status_code: 200,
                body: {
                  object: "score",
                  images: [{ index: 0, best_prompt: 0, cosines: [result] }],
                },
              },
              error: null,
            }),
          );
        } else {
          err.push(
            JSON.stringify({
              id: rid,
              custom_id,
              response: {
                status_code: 400,
                body: { error: { code: "malformed", message: result } },
              },
              error: null,
            }),
          );
        }
      }
      b.out = `file-${next++}`;
      files.set(b.out, out.map((l) => `${l}\n`).join(""));
      if (err.length > 0) {
        b.err = `file-${next++}`;
        files.set(b.err, err.map((l) => `${l}\n`).join(""));
      }
    }
    return {
      id,
      object: "batch",
      endpoint: "/v1/score",
      input_file_id: b.input,
      completion_window: "24h",
      status: done ? "completed" : "in_progress",
      output_file_id: done ? b.out : null,
      error_file_id: done ? (b.err ?? null) : null,
      created_at: 0,
      request_counts: { total: lines.length, completed: done ? lines.length : 0, failed: 0 },
    };
  };
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    log.push(`${req.method} ${path}`);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const body = await bodyOf(req);
    if (req.method === "POST" && path === "/v1/files") {
      const form = await new Request("http://x/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body,
      }).formData();
      const file = form.get("file") as File;
      const id = `file-${next++}`;
      const text = await file.text();
      files.set(id, text);
      uploads.push({ purpose: String(form.get("purpose")), text });
      return json(200, {
        id,
        object: "file",
        purpose: "batch",
        bytes: text.length,
        created_at: 0,
        filename: file.name,
        status: "processed",
      });
    }
    if (req.method === "POST" && path === "/v1/batches") {
      const params = JSON.parse(body.toString());
      batchesCreated.push(params);
      const id = `batch_${next++}`;
      batches.set(id, { input: params.input_file_id, polls: 0 });
      return json(200, { id, object: "batch", status: "validating", ...params, created_at: 0 });
    }
    const batch = /^\/v1\/batches\/([^/]+)$/.exec(path);
    if (req.method === "GET" && batch) {
      const value = batchObject(batch[1]);
      return value
        ? json(200, value)
        : json(404, { error: { code: "not_found", message: "no batch" } });
    }
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === "GET" && content && files.has(content[1])) {
      res.writeHead(200, { "content-type": "application/jsonl" });
      return res.end(files.get(content[1]));
    }
    json(404, { error: { code: "not_found", message: `${req.method} ${path}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    uploads,
    batchesCreated,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
