// The HTTP edge (src/http/edge.ts, src/http/cors.ts): the status of every
// refusal under both media types, a code on every error, nothing of the
// parser or the schema's names leaking in production, and CORS.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/yoga.js";
import { app, OPERATOR_TOKEN } from "../helpers/app.js";

const production = createApp({ operatorToken: OPERATOR_TOKEN, production: true });
const GRAPHQL_RESPONSE = "application/graphql-response+json";
const JSON_TYPE = "application/json";

interface Sent {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  text: string;
}

async function send(init: RequestInit & { url?: string; accept?: string; target?: typeof app; anonymous?: boolean } = {}): Promise<Sent> {
  const { url = "http://gateway.test/graphql", accept = JSON_TYPE, target = app, anonymous = false, headers, ...rest } = init;
  const response = await target.fetch(url, {
    method: "POST",
    ...rest,
    headers: {
      "content-type": JSON_TYPE,
      accept,
      ...(anonymous ? {} : { authorization: `Bearer ${OPERATOR_TOKEN}` }),
      ...(headers as Record<string, string>),
    },
  });
  const text = await response.text();
  let body: Sent["body"] = {};
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body, text };
}

const query = (text: string, variables?: Record<string, unknown>) => JSON.stringify({ query: text, variables });
const codes = (sent: Sent) => (sent.body.errors ?? []).map((e) => e.extensions?.code);

/** Requests answered without `data`: 400 under graphql-response+json, 200 under application/json. */
const DATALESS: Record<string, { body: string; code: string }> = {
  "a syntax error": { body: query("{ viewer { "), code: "GRAPHQL_PARSE_FAILED" },
  "an unknown field": { body: query("{ viewer { rol } }"), code: "GRAPHQL_VALIDATION_FAILED" },
  "a variable of the wrong type": { body: query("query($f: Int) { managers(first: $f) { totalCount } }", { f: "ten" }), code: "BAD_USER_INPUT" },
  "a required variable missing": { body: query("query($f: Int!) { managers(first: $f) { totalCount } }"), code: "BAD_USER_INPUT" },
  "an argument rule (page size)": { body: query("{ managers(first: 5000) { totalCount } }"), code: "BAD_USER_INPUT" },
  "the cost limit": {
    body: query("{ viewer { account { ... on Manager { subAccounts(first: 250) { nodes { apiKeys(first: 250) { nodes { id } } } } } } } }"),
    code: "QUERY_TOO_COMPLEX",
  },
  "the depth limit": {
    body: query(`{ viewer { account { ${"apiKeys { nodes { account { ".repeat(8)}id${" } } }".repeat(8)} } } }`),
    code: "QUERY_TOO_COMPLEX",
  },
  "the alias limit": { body: query(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { role }`).join(" ")} }`), code: "QUERY_TOO_COMPLEX" },
  "the token limit": { body: query(`{ ${"viewer { role } ".repeat(2000)} }`), code: "QUERY_TOO_COMPLEX" },
  "the directive limit": { body: query(`{ viewer { role ${"@include(if: true) ".repeat(30)} } }`), code: "QUERY_TOO_COMPLEX" },
};

describe("status codes of responses without data", () => {
  for (const [name, { body, code }] of Object.entries(DATALESS)) {
    it(`${name}: 400 with graphql-response+json, 200 with application/json, code ${code}`, async () => {
      const strict = await send({ body, accept: GRAPHQL_RESPONSE });
      expect(strict.status).toBe(400);
      expect(strict.headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
      expect(strict.body.data).toBeUndefined();
      expect(codes(strict)[0]).toBe(code);
      const legacy = await send({ body, accept: JSON_TYPE });
      expect(legacy.status).toBe(200);
      expect(codes(legacy)[0]).toBe(code);
    });
  }

  it("names the limit a query broke, without graphql-armor's 'Syntax Error' prefix", async () => {
    for (const [name, limit] of [
      ["the depth limit", "depth"],
      ["the alias limit", "aliases"],
      ["the token limit", "tokens"],
      ["the directive limit", "directives"],
    ] as const) {
      const sent = await send({ body: DATALESS[name]!.body });
      expect(sent.body.errors?.[0]?.extensions?.limit, name).toBe(limit);
      expect(sent.body.errors?.[0]?.message, name).not.toMatch(/^Syntax Error/);
    }
  });

  it("a result with data (a field error) stays 200 under graphql-response+json", async () => {
    const sent = await send({ body: query("{ viewer { role } }"), accept: GRAPHQL_RESPONSE });
    expect(sent.status).toBe(200);
    expect(sent.body.data).toEqual({ viewer: { role: "OPERATOR" } });
  });

  it("keeps the statuses refusals already have (401, 413, 429) under both media types", async () => {
    for (const accept of [GRAPHQL_RESPONSE, JSON_TYPE]) {
      const anonymous = await send({ body: query("{ viewer { role } }"), accept, anonymous: true });
      expect(anonymous.status).toBe(401);
      expect(codes(anonymous)).toEqual(["UNAUTHENTICATED"]);
      const large = await send({ body: query("{ viewer { role } }"), accept, headers: { "content-length": "2000000" } });
      expect(large.status).toBe(413);
      expect(codes(large)).toEqual(["REQUEST_ENTITY_TOO_LARGE"]);
    }
    const limited = createApp({ operatorToken: OPERATOR_TOKEN, production: true, rateLimits: { perKey: 1, perAddress: 1, windowSeconds: 60 } });
    await send({ body: query("{ viewer { role } }"), target: limited });
    const refused = await send({ body: query("{ viewer { role } }"), target: limited, accept: GRAPHQL_RESPONSE });
    expect(refused.status).toBe(429);
    expect(codes(refused)).toEqual(["RATE_LIMITED"]);
  });
});

describe("a code on every error", () => {
  it("malformed JSON: 400 BAD_REQUEST under both media types", async () => {
    for (const accept of [GRAPHQL_RESPONSE, JSON_TYPE]) {
      const sent = await send({ body: '{"query": "{ viewer { role } }"', accept });
      expect(sent.status).toBe(400);
      expect(codes(sent)).toEqual(["BAD_REQUEST"]);
    }
  });

  it("malformed JSON in production: a short message, nothing of the parser or the body", async () => {
    const sent = await send({ body: '{"query": "{ viewer { secretField } }"', target: production });
    expect(sent.status).toBe(400);
    expect(sent.body.errors).toEqual([{ message: "POST body sent invalid JSON.", extensions: { code: "BAD_REQUEST" } }]);
    expect(sent.text).not.toMatch(/originalError|secretField|position|stack|SyntaxError/);
  });

  it("Yoga's own request errors: no query, a body that is not an object, a batch", async () => {
    for (const body of ["{}", '"hello"', JSON.stringify([{ query: "{ viewer { role } }" }])]) {
      const sent = await send({ body });
      expect(sent.status, body).toBe(400);
      expect(codes(sent), body).toEqual(["BAD_REQUEST"]);
    }
  });

  it("the CSRF refusal: 403 CSRF_HEADER_REQUIRED", async () => {
    const sent = await app.fetch(`http://gateway.test/graphql?query=${encodeURIComponent("{ viewer { role } }")}`, { headers: { accept: JSON_TYPE } });
    expect(sent.status).toBe(403);
    const body = await sent.json();
    expect(body.errors[0].extensions.code).toBe("CSRF_HEADER_REQUIRED");
  });

  it("an unsupported media type: 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const sent = await send({ body: "<query/>", headers: { "content-type": "application/xml" } });
    expect(sent.status).toBe(415);
    expect(codes(sent)).toEqual(["UNSUPPORTED_MEDIA_TYPE"]);
  });

  it("an unacceptable Accept: 406 NOT_ACCEPTABLE", async () => {
    const sent = await send({ body: query("{ viewer { role } }"), accept: "text/xml" });
    expect(sent.status).toBe(406);
    expect(codes(sent)).toEqual(["NOT_ACCEPTABLE"]);
  });

  it("a method GraphQL does not use: 405 with a code; a mutation over GET: 405 with a code", async () => {
    const put = await send({ method: "PUT", body: query("{ viewer { role } }") });
    expect(put.status).toBe(405);
    expect(codes(put)).toEqual(["BAD_REQUEST"]);
    const mutation = encodeURIComponent('mutation { createManager(input: { email: "get@example.com" }) { __typename } }');
    const get = await send({ method: "GET", url: `http://gateway.test/graphql?query=${mutation}`, body: undefined });
    expect(get.status).toBe(405);
    expect(codes(get)).toEqual(["BAD_REQUEST"]);
  });

  it("an unknown path, /metrics included: 404 NOT_FOUND", async () => {
    for (const path of ["/nope", "/metrics", "/metrics?name[]=x"]) {
      const sent = await send({ method: "GET", url: `http://gateway.test${path}`, body: undefined });
      expect(sent.status, path).toBe(404);
      expect(codes(sent), path).toEqual(["NOT_FOUND"]);
      expect(sent.text).not.toMatch(/# HELP|# TYPE/);
    }
  });
});

describe("no suggestions in production", () => {
  const SUGGESTING = [
    "{ viewer { account { ... on Manager { subAccounts(filter: { status: [ACTIV] }) { totalCount } } } } }",
    '{ viewer { account { ... on Manager { subAccounts(filter: { emial: { contains: "abc" } }) { totalCount } } } } }',
    "{ viewer { account { ... on Manager { subAccounts(sort: EMAIL_AS) { totalCount } } } } }",
    "{ managers(frist: 5) { totalCount } }",
    "{ viewr { role } }",
    "query($f: Intt) { managers(first: $f) { totalCount } }",
    "{ viewer { account { ... on Managr { id } } } }",
  ];

  it("development answers suggest (the cases are real)", async () => {
    let suggested = 0;
    for (const text of SUGGESTING) if ((await send({ body: query(text) })).text.includes("Did you mean")) suggested++;
    expect(suggested).toBeGreaterThanOrEqual(5);
  });

  it("validation errors name no field, argument, type or enum value of the schema the caller did not write", async () => {
    for (const text of SUGGESTING) {
      const sent = await send({ body: query(text), target: production });
      expect(sent.body.errors?.length, text).toBeGreaterThan(0);
      expect(sent.text, text).not.toMatch(/Did you mean/);
      expect(sent.text, text).not.toMatch(/"ACTIVE"|"email"|"EMAIL_ASC"|"first"|"viewer"|"Int"|"Manager"/);
    }
  });

  it("variable coercion errors too (an enum value in a variable)", async () => {
    const text = "query($s: [AccountStatus!]) { viewer { account { ... on Manager { subAccounts(filter: { status: $s }) { totalCount } } } } }";
    const dev = await send({ body: query(text, { s: ["ACTIV"] }) });
    expect(dev.text).toMatch(/Did you mean/);
    const sent = await send({ body: query(text, { s: ["ACTIV"] }), target: production, accept: GRAPHQL_RESPONSE });
    expect(sent.status).toBe(400);
    expect(codes(sent)).toEqual(["BAD_USER_INPUT"]);
    expect(sent.text).not.toMatch(/Did you mean|"ACTIVE"/);
  });
});

describe("CORS", () => {
  const origin = "https://app.example.com";
  const cors = createApp({ operatorToken: OPERATOR_TOKEN, production: true, corsOrigins: [origin, "https://admin.example.com"] });
  const preflight = (target: typeof app, from: string) =>
    target.fetch("http://gateway.test/graphql", {
      method: "OPTIONS",
      headers: { origin: from, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, act-as-account" },
    });

  it("answers a listed origin's preflight with the methods and headers the API uses, never credentials", async () => {
    const res = await preflight(cors, origin);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    const allowed = res.headers.get("access-control-allow-headers")!.split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "x-request-id", "act-as-account"]));
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/Origin/);
  });

  it("gives an unlisted origin no CORS headers (not even 'null')", async () => {
    const res = await preflight(cors, "https://evil.example");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await send({ body: query("{ viewer { role } }"), target: cors, headers: { origin: "null" } });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("a simple request from a listed origin may read x-request-id and Retry-After", async () => {
    const sent = await send({ body: query("{ viewer { role } }"), target: cors, headers: { origin } });
    expect(sent.status).toBe(200);
    expect(sent.headers.get("access-control-allow-origin")).toBe(origin);
    expect(sent.headers.get("access-control-expose-headers")?.toLowerCase().split(/,\s*/)).toEqual(expect.arrayContaining(["x-request-id", "retry-after"]));
    expect(sent.headers.get("access-control-allow-credentials")).toBeNull();
    expect(sent.headers.get("vary")).toMatch(/Origin/);
  });

  it("by default allows no cross-origin access (and never credentials)", async () => {
    const res = await preflight(production, origin);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const sent = await send({ body: query("{ viewer { role } }"), target: production, headers: { origin } });
    expect(sent.status).toBe(200);
    expect(sent.headers.get("access-control-allow-origin")).toBeNull();
    expect(sent.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it('"*" allows any origin, literally, without credentials', async () => {
    const anyOrigin = createApp({ operatorToken: OPERATOR_TOKEN, production: true, corsOrigins: ["*"] });
    const res = await preflight(anyOrigin, "https://anyone.example");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
