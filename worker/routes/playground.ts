/**
 * GET / and /playground: the playground page (worker/playground/), served from strings bundled
 * with the worker, plus its /playground/app.js and /playground/app.css. Registered before the
 * API-key middleware: the page itself is public and asks for the key, which it sends to the
 * API routes. Not part of the OpenAPI document (it is not API).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { CLIENT_SCRIPT } from "../playground/client-script.ts";
import { PAGE_CSS } from "../playground/page-css.ts";
import { PAGE_HTML } from "../playground/page-html.ts";

/** Same-origin script, style and fetch only; images from blob: (the picked files' previews). */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const HEADERS = {
  "Content-Security-Policy": PLAYGROUND_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

const asset = (body: string, contentType: string) => () =>
  new Response(body, { headers: { ...HEADERS, "Content-Type": contentType } });

export function registerPlayground(app: OpenAPIHono): void {
  const page = asset(PAGE_HTML, "text/html; charset=UTF-8");
  app.get("/", page);
  app.get("/playground", page);
  app.get("/playground/app.js", asset(CLIENT_SCRIPT, "text/javascript; charset=UTF-8"));
  app.get("/playground/app.css", asset(PAGE_CSS, "text/css; charset=UTF-8"));
}
