import type { Plugin } from "graphql-yoga";

// Cross-origin access (CORS_ORIGINS), in place of Yoga's default CORS, which
// reflects any Origin and allows credentials. The API authenticates with
// bearer secrets only (no cookies), so no response ever carries
// Access-Control-Allow-Credentials. An origin not listed gets no CORS headers
// at all (not "null", which sandboxed documents also send as their origin).

const ALLOWED_METHODS = "GET, POST, OPTIONS";
const ALLOWED_HEADERS = "authorization, content-type, x-request-id, act-as-account";
const EXPOSED_HEADERS = "x-request-id, retry-after";
/** Seconds a browser may keep a preflight's answer. */
const PREFLIGHT_MAX_AGE = "600";

/** `origins`: exact origins, or ["*"] for any; empty: same-origin only. */
export function useCors(origins: readonly string[]): Plugin {
  const any = origins.includes("*");
  const listed = new Set(origins);
  const allowed = (origin: string | null): string | undefined => {
    if (!origin) return undefined;
    if (any) return "*";
    return listed.has(origin) ? origin : undefined;
  };
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (request.method !== "OPTIONS") return;
      const headers: Record<string, string> = { "content-length": "0" };
      const origin = allowed(request.headers.get("origin"));
      if (origin) {
        headers["access-control-allow-origin"] = origin;
        headers["access-control-allow-methods"] = ALLOWED_METHODS;
        headers["access-control-allow-headers"] = ALLOWED_HEADERS;
        headers["access-control-max-age"] = PREFLIGHT_MAX_AGE;
      }
      if (!any && origins.length) headers.vary = "Origin";
      endResponse(new fetchAPI.Response(null, { status: 204, headers }));
    },
    onResponse({ request, response }) {
      if (request.method === "OPTIONS") return;
      const origin = allowed(request.headers.get("origin"));
      // The answer depends on Origin whenever a list decides: caches must key on it.
      if (!any && origins.length) response.headers.append("vary", "Origin");
      if (!origin) return;
      response.headers.set("access-control-allow-origin", origin);
      response.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    },
  };
}
