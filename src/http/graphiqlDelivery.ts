import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { type Plugin, shouldRenderGraphiQL } from "graphql-yoga";
import { logger } from "../observability/logger.js";
import { GRAPHIQL_PAGE_SCRIPT, GRAPHIQL_RENDER_CALL } from "./graphiql.js";

// Yoga renders GraphiQL (about 9 MB: the editor, its workers and React,
// embedded so the page needs no CDN) on every GET /graphql from a browser
// and sends it as is. This plugin takes that response and sends instead the
// same page with the gateway's script (src/http/graphiql.ts), compressed,
// revalidated by ETag and with security headers. Yoga's GraphiQL plugin ends
// the request in onRequest before any plugin of ours runs, so this works on
// its response: Yoga still renders the page (about 35 ms), but it is
// compared with the last one rather than prepared again, so the script
// injection, the hashes and the compression happen once per process for
// the page the options build.

type Encoding = "br" | "gzip" | "identity";

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

// Measured on this page: brotli quality 9 gives 1.86 MB in 0.7 s, 11 gives
// 1.71 MB in 14 s (a CPU core for that long at the first browser visit of
// every process); gzip 9 gives 2.43 MB in 0.3 s.
const compressors: Record<Exclude<Encoding, "identity">, (html: Buffer) => Promise<Buffer>> = {
  br: (html) =>
    brotliAsync(html, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 9,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: html.length,
      },
    }),
  gzip: (html) => gzipAsync(html, { level: 9 }),
};

interface PreparedPage {
  /** Yoga's rendering it was prepared from. */
  source: string;
  html: Buffer;
  /** Strong validators, one per representation (RFC 9110 8.8.3). */
  etags: Record<Encoding, string>;
  contentSecurityPolicy: string;
  bodies: Map<Encoding, Promise<Buffer>>;
}

/** The page as sent: Yoga's, with the gateway's script wrapping the render call. */
export function prepareGraphiQLPage(source: string): Omit<PreparedPage, "bodies" | "source"> {
  let html = source;
  const call = source.lastIndexOf(GRAPHIQL_RENDER_CALL);
  if (call >= 0 && source.indexOf(GRAPHIQL_RENDER_CALL) === call && source.includes("</head>")) {
    html =
      source.slice(0, call).replace("</head>", `<script>${GRAPHIQL_PAGE_SCRIPT}</script>\n</head>`) +
      `gatewayGraphiQL(${GRAPHIQL_RENDER_CALL.slice(0, -1)})(` +
      source.slice(call + GRAPHIQL_RENDER_CALL.length);
  } else {
    // A Yoga release rendering the page differently: GraphiQL still works,
    // without one key for every tab or the refetch (the browser test fails).
    logger.warn("GraphiQL page: render call not found; the page script is left out");
  }
  const bytes = Buffer.from(html);
  const digest = createHash("sha256").update(bytes).digest("base64url").slice(0, 27);
  return {
    html: bytes,
    etags: { identity: `"${digest}"`, gzip: `"${digest}-gzip"`, br: `"${digest}-br"` },
    contentSecurityPolicy: contentSecurityPolicy(html),
  };
}

/**
 * Only this page's own inline scripts may run, it talks to its own origin
 * only, and no other site may frame it (it holds keys). Styles stay
 * 'unsafe-inline': Monaco and React set style attributes and elements at run
 * time, and a style cannot read a key.
 */
function contentSecurityPolicy(html: string): string {
  const hashes: string[] = [];
  // As the HTML tokenizer does: a script ends at the first "</script".
  const lower = html.toLowerCase();
  for (let at = lower.indexOf("<script>"); at >= 0; at = lower.indexOf("<script>", at)) {
    const end = lower.indexOf("</script", at);
    if (end < 0) break;
    const text = html.slice(at + "<script>".length, end);
    hashes.push(`'sha256-${createHash("sha256").update(text).digest("base64")}'`);
    at = end;
  }
  return [
    "default-src 'none'",
    `script-src ${hashes.join(" ")}`,
    // Monaco's workers are blobs made by the page from its own text.
    "worker-src blob:",
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The best encoding the client takes: by its q-values, br before gzip when equal. */
export function negotiateEncoding(acceptEncoding: string | null): Encoding {
  const weights = new Map<string, number>();
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    weights.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const weight = (name: string) => weights.get(name) ?? weights.get("*") ?? 0;
  const best = (["br", "gzip"] as const).filter((name) => weight(name) > 0).sort((a, b) => weight(b) - weight(a))[0];
  return best ?? "identity";
}

/** If-None-Match compares weakly (RFC 9110 13.1.2): any representation of this page is current. */
function isCurrent(ifNoneMatch: string | null, page: PreparedPage): boolean {
  if (!ifNoneMatch) return false;
  const current = new Set(Object.values(page.etags));
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || current.has(trimmed.replace(/^W\//, ""));
  });
}

/**
 * Sends Yoga's GraphiQL page compressed (br or gzip per Accept-Encoding),
 * with `Cache-Control: no-cache` and an ETag, so a browser asks each time
 * and a page it has is a 304 without a body: a new deployment is seen at
 * once (the page has no versioned URL to cache forever), an unchanged page
 * costs a round trip. Register it in createYoga's plugins.
 */
export function useGraphiQLDelivery(): Plugin {
  let endpoint = "/graphql";
  let page: PreparedPage | undefined;

  const body = (prepared: PreparedPage, encoding: Encoding): Promise<Buffer> => {
    let bytes = prepared.bodies.get(encoding);
    if (!bytes) {
      bytes = encoding === "identity" ? Promise.resolve(prepared.html) : compressors[encoding](prepared.html);
      // A failed compression is tried again by the next request, not kept.
      bytes.catch(() => prepared.bodies.get(encoding) === bytes && prepared.bodies.delete(encoding));
      prepared.bodies.set(encoding, bytes);
    }
    return bytes;
  };

  return {
    onYogaInit({ yoga }) {
      endpoint = yoga.graphqlEndpoint;
    },
    async onResponse({ request, response, setResponse, fetchAPI }) {
      if (!shouldRenderGraphiQL(request) || response.status !== 200) return;
      if (!response.headers.get("content-type")?.startsWith("text/html")) return;
      const { pathname } = new URL(request.url, "http://localhost");
      if (pathname !== endpoint && pathname !== `${endpoint}/`) return;

      const source = await response.text();
      if (page?.source !== source) page = { ...prepareGraphiQLPage(source), source, bodies: new Map() };
      const prepared = page;
      const encoding = negotiateEncoding(request.headers.get("accept-encoding"));

      // Whatever other plugins set (x-request-id, CORS) is kept.
      const headers = new fetchAPI.Headers(response.headers);
      headers.delete("content-length");
      headers.set("content-type", "text/html; charset=utf-8");
      headers.set("cache-control", "no-cache");
      headers.set("etag", prepared.etags[encoding]);
      // /graphql answers JSON to other Accept headers, and the bytes depend on Accept-Encoding.
      // Appended, so a Vary: Origin set by CORS stays.
      headers.append("vary", "Accept, Accept-Encoding");
      headers.set("content-security-policy", prepared.contentSecurityPolicy);
      headers.set("x-content-type-options", "nosniff");
      headers.set("referrer-policy", "no-referrer");
      headers.set("x-frame-options", "DENY");

      if (isCurrent(request.headers.get("if-none-match"), prepared)) {
        setResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const bytes = await body(prepared, encoding);
      if (encoding !== "identity") headers.set("content-encoding", encoding);
      headers.set("content-length", String(bytes.length));
      setResponse(new fetchAPI.Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    },
  };
}
