import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchImage, isPrivateHost } from "../../../worker/origin-client/fetch-image.ts";
import { codeOf } from "../../helpers/error-code.ts";
import { readFixtureImage } from "../../origin/helpers.ts";
import { startLocalServer } from "./local-server.ts";

const png = readFixtureImage("camera.png");

describe("fetchImage", () => {
  let server: Awaited<ReturnType<typeof startLocalServer>>;
  const base = () => server.url;

  beforeAll(async () => {
    server = await startLocalServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const hop = Number(url.searchParams.get("n") ?? 0);
      switch (url.pathname) {
        case "/photo.png":
          res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
          return res.end(png);
        case "/redirect":
          res.writeHead(302, { location: hop > 0 ? `/redirect?n=${hop - 1}` : "/photo.png" });
          return res.end();
        case "/to-ftp":
          res.writeHead(301, { location: "ftp://example.com/x.png" });
          return res.end();
        case "/html":
          res.writeHead(200, { "content-type": "text/html" });
          return res.end("<html></html>");
        case "/big-declared":
          res.writeHead(200, { "content-type": "image/png", "content-length": 10_000_000 });
          return res.end();
        case "/big-streamed": {
          // chunked, no Content-Length: the cap must hold while streaming
          res.writeHead(200, { "content-type": "image/jpeg" });
          let sent = 0;
          const timer = setInterval(() => {
            if (sent > 5_000_000 || res.destroyed) {
              clearInterval(timer);
              res.end();
              return;
            }
            sent += 64 * 1024;
            res.write(new Uint8Array(64 * 1024));
          }, 1);
          res.on("close", () => clearInterval(timer));
          return;
        }
        case "/hang":
          return; // never answers
        default:
          res.writeHead(404);
          return res.end();
      }
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const opts = {
    fetch: (i: Request | string | URL, n?: RequestInit) => fetch(i, n),
    maxBytes: 1_000_000,
    allowPrivateHosts: true,
  };

  it("fetches an image and follows a limited number of redirects", async () => {
    const direct = await fetchImage(`${base()}/photo.png`, opts);
    expect(direct.contentType).toBe("image/png");
    expect(Buffer.compare(Buffer.from(direct.bytes), Buffer.from(png))).toBe(0);
    const redirected = await fetchImage(`${base()}/redirect?n=2`, { ...opts, maxRedirects: 3 });
    expect(redirected.url).toBe(`${base()}/photo.png`);
    expect(redirected.bytes.length).toBe(png.length);
    expect(await codeOf(fetchImage(`${base()}/redirect?n=3`, { ...opts, maxRedirects: 3 }))).toBe(
      "invalid_request",
    );
  });

  it("refuses non-http(s) URLs, also as redirect targets, and private hosts by default", async () => {
    expect(await codeOf(fetchImage("file:///etc/passwd", opts))).toBe("invalid_input");
    expect(await codeOf(fetchImage("not a url", opts))).toBe("invalid_input");
    expect(await codeOf(fetchImage(`${base()}/to-ftp`, opts))).toBe("invalid_input");
    const { allowPrivateHosts: _ignored, ...strict } = opts;
    expect(await codeOf(fetchImage(`${base()}/photo.png`, strict))).toBe("invalid_input");
    for (const host of [
      "http://localhost/x",
      "http://10.1.2.3/x",
      "http://192.168.0.1/x",
      "http://[::1]/x",
      "http://169.254.169.254/x",
    ]) {
      expect(await codeOf(fetchImage(host, strict)), host).toBe("invalid_input");
    }
  });

  // Spellings of loopback / private hosts, as a client could write them in a URL.
  const PRIVATE = [
    "localhost",
    "localhost.",
    "LOCALHOST.",
    "LocalHost..",
    "a.localhost.",
    "printer.local.",
    "metadata.google.internal.",
    "127.0.0.1",
    "127.0.0.1.",
    "127.1",
    "0x7f.1",
    "0177.0.0.1",
    "2130706433",
    "0",
    "0.0.0.0",
    "10.0.0.1.",
    "169.254.169.254",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::127.0.0.1]",
    "[fd00::1]",
    "[fe80::1]",
  ];
  const PUBLIC = [
    "example.com",
    "example.com.",
    "localhost.example.com",
    "8.8.8.8",
    "[2001:db8::1]",
  ];

  it.each(PRIVATE)("refuses %s (first URL and as a redirect target)", async (host) => {
    const { allowPrivateHosts: _ignored, ...strict } = opts;
    const url = `http://${host}:${new URL(base()).port}/photo.png`;
    expect(isPrivateHost(new URL(url).hostname)).toBe(true);
    const seen: string[] = [];
    const scripted = async (input: Request | string | URL) => {
      seen.push(String(input));
      return new Response(null, { status: 302, headers: { location: url } });
    };
    expect(await codeOf(fetchImage(url, { ...strict, fetch: scripted }))).toBe("invalid_input");
    expect(seen).toEqual([]);
    const hop = fetchImage("http://images.example.com/a.png", { ...strict, fetch: scripted });
    expect(await codeOf(hop)).toBe("invalid_input");
    expect(seen).toEqual(["http://images.example.com/a.png"]);
  });

  it.each(PUBLIC)("lets %s through", (host) => {
    expect(isPrivateHost(new URL(`http://${host}/x`).hostname)).toBe(false);
  });

  it("checks the content type and the status", async () => {
    expect(await codeOf(fetchImage(`${base()}/html`, opts))).toBe("unsupported_media_type");
    expect(await codeOf(fetchImage(`${base()}/missing.png`, opts))).toBe("invalid_request");
  });

  it("enforces the size cap from Content-Length and while streaming", async () => {
    expect(await codeOf(fetchImage(`${base()}/big-declared`, opts))).toBe("too_large");
    const started = performance.now();
    expect(await codeOf(fetchImage(`${base()}/big-streamed`, opts))).toBe("too_large");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("times out a server that never answers", async () => {
    const error = await fetchImage(`${base()}/hang`, { ...opts, timeoutMs: 150 }).catch((e) => e);
    expect(error.code).toBe("invalid_request");
    expect(error.message).toContain("150 ms");
  });
});
