/**
 * The OpenAPI document passes `redocly lint` with the recommended rules (offline: the CLI
 * runs on the written file, telemetry off). The only warnings allowed are the two below.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../../worker/app.ts";

const dir = mkdtempSync(join(tmpdir(), "clip-edge-openapi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Allowed warnings: the package declares no license (private; none is chosen for it), and the
 * open probes /healthz and /readyz take no input, so they have no 4xx answer to declare.
 */
const ALLOWED_WARNINGS = new Set(["info-license", "operation-4xx-response"]);

interface LintProblem {
  ruleId: string;
  severity: "error" | "warn";
  message: string;
  location: { pointer: string }[];
}

async function openApiDocument(): Promise<Record<string, unknown>> {
  const app = createApp({ apiKeys: () => [] } as never);
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function redoclyLint(file: string): Promise<LintProblem[]> {
  const bin = join(process.cwd(), "node_modules", ".bin", "redocly");
  const run = promisify(execFile);
  const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };
  const args = ["lint", "--extends=recommended", "--format=json", file];
  // Exit 1 on errors: the JSON report is on stdout either way.
  const { stdout } = await run(bin, args, { env }).catch((error) => error);
  return (JSON.parse(stdout) as { problems: LintProblem[] }).problems;
}

describe("OpenAPI document", () => {
  it("passes redocly lint (recommended) with no errors", async () => {
    const doc = await openApiDocument();
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc));
    const problems = await redoclyLint(file);
    const errors = problems.filter((p) => p.severity === "error");
    expect(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
    const warnings = problems.filter((p) => !ALLOWED_WARNINGS.has(p.ruleId));
    expect(warnings.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}`)).toEqual([]);
    const untested = problems.filter(
      (p) =>
        p.ruleId === "operation-4xx-response" &&
        !/\/paths\/~1(healthz|readyz)\//.test(p.location[0]?.pointer ?? ""),
    );
    expect(untested).toEqual([]);
  });

  it("declares bearer security, the open paths, 422 invalid_input and the response headers", async () => {
    const doc = (await openApiDocument()) as {
      security: unknown;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.paths["/v1/models/{id}"].get.operationId).toBe("retrieveModel");
    const responses = (method: string, path: string) =>
      doc.paths[path][method].responses as Record<
        string,
        { description: string; headers?: object }
      >;
    expect(responses("post", "/v1/embeddings")["422"].description).toContain("invalid_input");
    expect(Object.keys(responses("post", "/v1/conditioning")["200"].headers ?? {})).toEqual(
      expect.arrayContaining(["X-Model", "X-Cache", "ETag"]),
    );
    expect(Object.keys(responses("post", "/v1/embeddings")["200"].headers ?? {})).toEqual(
      expect.arrayContaining(["X-Cache", "ETag"]),
    );
  });
});
