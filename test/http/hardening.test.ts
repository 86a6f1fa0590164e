// Hostile input at the HTTP and query level: each gets a clear error, never a
// 500, and no response carries ORM or SQL text.
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { createApp } from "../../src/yoga.js";
import { app, countStatements, errorCodes, gql, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

const post = (body: string, headers: Record<string, string> = {}, target = app) =>
  target.fetch("http://gateway.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}`, ...headers },
    body,
  });

const LEAKS = /prisma|postgres|SELECT |INSERT |constraint|\.ts:\d+|node_modules/i;

describe("query limits", () => {
  it("refuses a 50-deep query before any SQL runs", async () => {
    let query = "id";
    for (let i = 0; i < 25; i++) query = `apiKeys { nodes { account { ${query} } } }`;
    const { result, statements } = await countStatements(() => gql(`{ viewer { account { ${query} } } }`, { token: OPERATOR_TOKEN }));
    expect(result.body.errors?.[0]?.message).toMatch(/depth/i);
    expect(result.body.data ?? null).toBeNull();
    expect(statements).toBe(0);
  });

  it("refuses 200 aliases", async () => {
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: viewer { role }`).join(" ");
    const res = await gql(`{ ${aliases} }`, { token: OPERATOR_TOKEN });
    expect(res.body.errors?.[0]?.message).toMatch(/alias/i);
  });

  it("refuses queries whose page sizes multiply past the cost limit, with no SQL", async () => {
    const query = `{ viewer { account { ... on Manager { subAccounts(first: 250) { nodes { apiKeys(first: 250) { nodes { id } } } } } } } }`;
    const { result, statements } = await countStatements(() => gql(query, { token: OPERATOR_TOKEN }));
    expect(errorCodes(result)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(statements).toBe(0);
  });

  it("lets a real Relay tree through: viewer -> 250 sub-accounts -> keys with edges/node", async () => {
    // 250 sub-accounts with a key each, written directly (the API would take
    // 500 mutations), under a fresh manager so the tree holds exactly these.
    const manager = await createManager();
    const managerId = dbId(manager.id);
    const subs = Array.from({ length: 250 }, (_, i) => ({ id: randomUUID(), email: `${unique(`tree${i}`)}@example.com` }));
    await prisma.account.createMany({ data: subs.map((s) => ({ id: s.id, kind: "SUB_ACCOUNT" as const, managerId, email: s.email })) });
    const keys = subs.map((s) => ({ id: randomUUID(), accountId: s.id, name: "tree key", prefix: "tk_", secretHash: randomBytes(32).toString("hex") }));
    await prisma.apiKey.createMany({ data: keys });

    const query = graphql(`{ viewer { account { id ... on Manager { subAccounts(first: 250) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id email status apiKeys { totalCount edges { cursor node { id name prefix } } } } } } } } } }`);
    const res = await gql(query, { token: manager.token });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const account = res.body.data?.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`expected the manager, got ${JSON.stringify(account)}`);
    const page = account.subAccounts;
    expect(page.totalCount).toBe(250);
    expect(page.pageInfo.hasNextPage).toBe(false);
    expect(page.edges).toHaveLength(250);
    const keyOf = new Map<string, string>(keys.map((k) => [k.accountId, k.id]));
    expect(new Set(page.edges.map((e) => dbId(e.node.id)))).toEqual(new Set(subs.map((s) => s.id)));
    for (const { cursor, node } of page.edges) {
      expect(cursor).toEqual(expect.any(String));
      expect(node.status).toBe("ACTIVE");
      expect(node.apiKeys.totalCount).toBe(1);
      expect(node.apiKeys.edges.map((e) => dbId(e.node.id))).toEqual([keyOf.get(dbId(node.id))]);
      expect(node.apiKeys.edges[0]?.node).toMatchObject({ name: "tree key", prefix: "tk_" });
    }
  });

  it("refuses a 2 MB body with 413", async () => {
    const res = await post(JSON.stringify({ query: `{ viewer { role } }`, variables: { pad: "x".repeat(2_000_000) } }));
    expect(res.status).toBe(413);
  });

  describe("the body limit (src/http/bodyLimit.ts)", () => {
    const big = JSON.stringify({ query: `{ viewer { role } }`, variables: { pad: "x".repeat(2_000_000) } });
    const small = JSON.stringify({ query: `{ viewer { role } }` });
    /** A body sent without a declared length (chunked), in pieces of 64 KB. */
    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      let at = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= bytes.length) return controller.close();
          controller.enqueue(bytes.subarray(at, at + 65_536));
          at += 65_536;
        },
      });
    };
    const send = (body: BodyInit, headers: Record<string, string> = {}) =>
      app.fetch("http://gateway.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}`, ...headers },
        body,
        duplex: "half",
      } as RequestInit);

    it("refuses a declared length past the limit with 413 before reading the body", async () => {
      const res = await send(small, { "content-length": String(2_000_000) });
      expect(res.status).toBe(413);
      expect((await res.json()).errors[0].message).toBe("Request body too large");
    });

    it("refuses a malformed Content-Length with 400", async () => {
      for (const declared of ["-1", "10, 10", "1e3"]) {
        const res = await send(small, { "content-length": declared });
        expect(res.status, declared).toBe(400);
      }
    });

    it("counts a body sent without a declared length: 413 past the limit, answered within it", async () => {
      expect((await send(chunked(big))).status).toBe(413);
      const res = await send(chunked(small));
      expect(res.status).toBe(200);
      expect((await res.json()).data).toEqual({ viewer: { role: "OPERATOR" } });
    });
  });

  it("refuses batched (array) requests", async () => {
    const res = await post(JSON.stringify([{ query: "{ viewer { role } }" }, { query: "{ viewer { role } }" }]));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it("refuses mutations over GET", async () => {
    const url = `http://gateway.test/graphql?query=${encodeURIComponent('mutation { createManager(input: { email: "get@example.com" }) { __typename } }')}`;
    const res = await app.fetch(url, { method: "GET", headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, accept: "application/json" } });
    expect(res.status).toBe(405);
  });

  it("answers unknown ids, bad variables and unicode without a 500", async () => {
    for (const id of ["", "💥".repeat(1000), "' OR 1=1 --", "x".repeat(10_000)]) {
      const res = await gql(`query($id: ID!) { node(id: $id) { id } }`, { token: OPERATOR_TOKEN, variables: { id } });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ node: null });
    }
    // Text no input may hold (a NUL, a lone surrogate) is refused before anything runs, whatever the argument.
    for (const id of ["\u0000", "\uD800"]) {
      const res = await gql(`query($id: ID!) { node(id: $id) { id } }`, { token: OPERATOR_TOKEN, variables: { id } });
      expect(res.status).toBe(200);
      expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    }
    const bad = await gql(`query($first: Int) { managers(first: $first) { totalCount } }`, { token: OPERATOR_TOKEN, variables: { first: "ten" } });
    expect(errorCodes(bad)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("production mode", () => {
  const production = createApp({ operatorToken: OPERATOR_TOKEN, production: true });

  it("gives no field suggestions", async () => {
    const res = await post(JSON.stringify({ query: "{ viewr { role } }" }), {}, production);
    const body = await res.json();
    expect(JSON.stringify(body)).not.toMatch(/Did you mean/);
  });

  it("echoes the request id", async () => {
    const res = await post(JSON.stringify({ query: "{ viewer { role } }" }), { "x-request-id": "req-123" }, production);
    expect(res.headers.get("x-request-id")).toBe("req-123");
    const generated = await post(JSON.stringify({ query: "{ viewer { role } }" }), {}, production);
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("never leaks ORM or SQL text in errors", async () => {
    const queries = [
      `{ node(id: "${"A".repeat(300)}") { id } }`,
      `mutation { suspendSubAccount(input: { id: "'; DROP TABLE accounts; --" }) { __typename } }`,
      `{ managers(first: 10, filter: { email: { contains: "%_\\\\'" } }) { totalCount } }`,
    ];
    for (const query of queries) {
      const res = await post(JSON.stringify({ query }), {}, production);
      const text = await res.text();
      expect(res.status).toBeLessThan(500);
      expect(text).not.toMatch(LEAKS);
    }
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once a key's budget is spent", async () => {
    const limited = createApp({ operatorToken: OPERATOR_TOKEN, production: true, rateLimits: { perKey: 3, perAddress: 2, windowSeconds: 60 } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await post(JSON.stringify({ query: "{ viewer { role } }" }), {}, limited);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = await last!.json();
    expect(body.errors[0].extensions.code).toBe("RATE_LIMITED");
  });

  it("limits unauthenticated attempts per address", async () => {
    const limited = createApp({ operatorToken: OPERATOR_TOKEN, production: true, rateLimits: { perKey: 100, perAddress: 2, windowSeconds: 60 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(JSON.stringify({ query: "{ viewer { role } }" }), { authorization: "Bearer nope" }, limited)).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
  });
});

describe("metrics (served by their own listener: test/security/metrics.test.ts)", () => {
  it("are not served on the API port", async () => {
    expect((await app.fetch("http://gateway.test/metrics")).status).toBe(404);
  });

  it("count requests and errors, with the durations per phase", async () => {
    await gql(`{ viewer { role } }`, { token: OPERATOR_TOKEN });
    await gql(`mutation { suspendManager(input: { id: "nope" }) { __typename } }`, { token: OPERATOR_TOKEN });
    const text = await app.metricsRegistry.metrics();
    // The durations an operator needs, per phase; not the plugin's costly extras (every metric is named in yoga.ts).
    for (const metric of [
      "graphql_yoga_http_duration",
      "graphql_envelop_request_duration",
      "graphql_envelop_phase_validate",
      "graphql_envelop_phase_execute",
    ]) {
      expect(text).toContain(metric);
    }
    expect(text).not.toContain("graphql_envelop_request_time_summary");
    expect(text).not.toContain("graphql_envelop_deprecated_field");
    expect(text).toMatch(/gateway_graphql_errors_total\{code="NOT_FOUND"\} \d+/);
  });

  it("label responses by method, route, status, operation type and role only", async () => {
    await gql(`query TenantSecretName { viewer { role } }`, { token: OPERATOR_TOKEN });
    await app.fetch("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"query":"{ viewer { role } }"}',
    });
    const text = await app.metricsRegistry.metrics();
    expect(text).toMatch(/graphql_yoga_http_duration_count\{method="POST",route="\/graphql",statusCode="200",operationType="query",role="OPERATOR"\} \d+/);
    // Refused before parsing, still observed.
    expect(text).toMatch(/graphql_yoga_http_duration_count\{method="POST",route="\/graphql",statusCode="401",operationType="none",role="anonymous"\} \d+/);
    expect(text).not.toMatch(/TenantSecretName|operationName=|url=|path=/);
  });
});

describe("GraphiQL", () => {
  it("is served at /graphql to browsers with every asset embedded (no CDN)", async () => {
    const res = await app.fetch("http://gateway.test/graphql", { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("<html");
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/);
  });
});
