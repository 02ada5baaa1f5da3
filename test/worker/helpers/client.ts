/** Requests to the worker under test (the `main` of wrangler.toml, in this workerd isolate). */
import { exports } from "cloudflare:workers";

export const worker = (exports as unknown as { default: Fetcher }).default;

export function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return worker.fetch(`http://clip-edge${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface SessionStats {
  model: string;
  graph: string;
  runs: number;
  requests: number;
  largest_batch: number;
}

/** Run counters of the isolate's sessions, as /readyz reports them. */
export async function sessionStats(): Promise<SessionStats> {
  const body = (await (await worker.fetch("http://clip-edge/readyz")).json()) as {
    sessions: SessionStats[];
  };
  const stats = body.sessions.find((s) => s.model === "tiny-openai");
  if (!stats) throw new Error(`no tiny-openai session in /readyz: ${JSON.stringify(body)}`);
  return stats;
}
