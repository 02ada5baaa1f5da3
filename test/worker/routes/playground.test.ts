/**
 * The playground's routes in the real app (createApp): public with API keys on, served under a
 * strict CSP that the page itself keeps (no inline script or style), and outside the OpenAPI
 * document. The browser tests (playground.slow.test.ts) drive the page itself.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../../worker/app.ts";
import type { AppDeps } from "../../../worker/app-deps.ts";
import { PLAYGROUND_CSP } from "../../../worker/routes/playground.ts";

// Nothing here reaches a model: the page is static, and the API answers 401 before any route.
const unused = () => {
  throw new Error("the playground routes must not touch the app's dependencies");
};
const deps = {
  registry: { get: unused, list: unused, manifest: unused },
  cache: { respond: unused },
  limits: unused,
  defaultModel: unused,
  presetModels: unused,
  authEnabled: () => true,
  origin: unused,
} as unknown as AppDeps;
const app = createApp({ ...deps, apiKeys: () => ["secret-key"] });

describe("GET / and /playground", () => {
  it("serve the page without an API key while the API asks for one", async () => {
    for (const path of ["/", "/playground"]) {
      const response = await app.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=UTF-8");
      expect(response.headers.get("content-security-policy")).toBe(PLAYGROUND_CSP);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.text()).toContain("<title>clip-edge playground</title>");
    }
    expect((await app.request("/v1/models")).status).toBe(401);
  });

  it("load only same-origin script and style, which the CSP allows and nothing inline", async () => {
    const html = await (await app.request("/playground")).text();
    expect(PLAYGROUND_CSP).toMatch(/default-src 'none'/);
    expect(PLAYGROUND_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((s) => s[1].trim())).toEqual(['src="/playground/app.js" defer']);
    expect(scripts.every((s) => s[2].trim() === "")).toBe(true);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const js = await app.request("/playground/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=UTF-8");
    const script = await js.text();
    expect(() => new Function(script)).not.toThrow();
    const css = await app.request("/playground/app.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=UTF-8");
    expect(await css.text()).toContain("@media (max-width: 640px)");
  });

  it("are not API: the OpenAPI document does not list them", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: object };
    expect(Object.keys(doc.paths).some((p) => p === "/" || p.startsWith("/playground"))).toBe(
      false,
    );
    expect(Object.keys(doc.paths)).toContain("/v1/tokenize");
  });
});
