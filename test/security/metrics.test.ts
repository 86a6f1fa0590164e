// Metrics through the real server process: on their own listener (not the
// API port), behind METRICS_TOKEN, with labels that hold nothing a client
// chose, so tenants' searches never show in a scrape and client-chosen names
// cannot grow it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config.js";
import { killServers, type ServerProcess, startServer } from "../helpers/server.js";

afterAll(killServers);

const METRICS_TOKEN = `metrics_${randomBytes(12).toString("hex")}`;
const secret = (label: string) => `${label}${randomBytes(6).toString("hex")}`;

describe("metrics of the server process", () => {
  let server: ServerProcess;
  let operatorToken: string;

  /** Posts `body` to the server process; `D` is what the caller reads of `data`. */
  const graphql = async <D = unknown>(token: string, body: unknown) => {
    const res = await fetch(`${server.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data?: D; errors?: unknown[] } };
  };
  const scrape = async (token: string | null = METRICS_TOKEN) => {
    const res = await fetch(server.metricsUrl!, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") };
  };

  beforeAll(async () => {
    server = await startServer({ METRICS_TOKEN, RATE_LIMIT_PER_KEY: "100000", NODE_ENV: "production" });
    operatorToken = readFileSync(path.join(server.dataDir, "operator-token"), "utf8").trim();
  }, 300_000);

  it("logs where metrics are served, on a port of their own", () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(server.metricsUrl!).port).not.toBe(String(server.port));
  });

  it("answers 404 for /metrics on the API port, like any unknown path", async () => {
    for (const url of [`${server.baseUrl}/metrics`, `${server.baseUrl}/metrics?format=text`]) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${operatorToken}` } });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/# HELP/);
    }
  });

  it("answers a scrape with the token, and 401 without it or with another", async () => {
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.contentType).toMatch(/^text\/plain/);
    expect(ok.text).toContain("# HELP graphql_yoga_http_duration");
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape("metrics_wrong")).status).toBe(401);
    const res = await fetch(server.metricsUrl!, { headers: { authorization: METRICS_TOKEN } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("holds none of two tenants' operation names, variables, search texts or query strings", async () => {
    const secrets: string[] = [];
    for (const tenant of ["acme", "globex"]) {
      const created = await graphql<{ createManager: { secret?: string } }>(operatorToken, {
        query: `mutation($input: CreateManagerInput!) { createManager(input: $input) { ... on CreateManagerSuccess { secret } ... on Error { code message } } }`,
        variables: { input: { email: `${secret(tenant)}@example.com`, organizationName: tenant } },
      });
      const key = created.body.data?.createManager.secret ?? "";
      expect(key).toMatch(/^agk_/);

      const operationName = secret(`${tenant}SecretOperation`);
      const variableText = secret(`${tenant}-variable-`);
      const literalText = secret(`${tenant}-literal-`);
      const alias = secret(`${tenant}Alias`);
      const getText = secret(`${tenant}-get-`);
      const badName = secret(`${tenant}BadOperation`);
      secrets.push(operationName, variableText, literalText, alias, getText, badName);

      const search = await graphql(key, {
        operationName,
        query: `query ${operationName}($needle: String!) { viewer { account { ... on Manager {
          byVariable: subAccounts(filter: { email: { contains: $needle } }) { totalCount }
          ${alias}: subAccounts(filter: { organizationName: { contains: "${literalText}" } }) { totalCount } } } } }`,
        variables: { needle: variableText },
      });
      expect(search.status).toBe(200);
      expect(search.body.errors).toBeUndefined();

      // The URL (its query string) was a label of the plugin's HTTP histogram.
      const query = `query ${operationName}Get($q: String!) { viewer { account { ... on Manager { subAccounts(filter: { email: { contains: $q } }) { totalCount } } } } }`;
      const url = `${server.baseUrl}/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ q: getText }))}`;
      const viaGet = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: "application/json" } });
      expect(viaGet.status).toBe(200);

      // Failing operations: validation errors, argument rule errors, an error's path (aliases).
      await graphql(key, { operationName: badName, query: `query ${badName} { viewer { ${alias}X: role nope } }` });
      await graphql(key, { query: `query ${badName}Rule { viewer { account { ... on Manager { ${alias}Y: subAccounts(first: 9999) { totalCount } } } } }` });
      await graphql(key, {
        query: `{ viewer { account { ... on Manager { subAccounts(filter: { email: { contains: "${secret("x")}" } }, after: "${alias}") { totalCount } } } } }`,
      });
    }

    const { text } = await scrape();
    for (const value of secrets) expect(text, value).not.toContain(value);
    expect(text).not.toMatch(/acme|globex|needle|contains|agk_/i);
    expect(text).not.toMatch(/\b(operationName|url|path)="/);
    // Still the figures an operator needs, by bounded labels.
    expect(text).toMatch(/graphql_yoga_http_duration_count\{method="GET",route="\/graphql",statusCode="200",operationType="query",role="MANAGER"\} [1-9]/);
    expect(text).toMatch(/graphql_envelop_phase_execute_count\{operationType="query"\} [1-9]/);
    expect(text).toMatch(/graphql_envelop_error_result\{operationType="query",phase="validate"\} [1-9]/);
  }, 120_000);

  it("does not grow with 2000 distinct operation names", async () => {
    const ask = (name: string) => graphql(operatorToken, { operationName: name, query: `query ${name} { viewer { role } }` });
    const failing = (name: string) => graphql(operatorToken, { operationName: name, query: `query ${name} { viewer { nope } }` });
    // Every series these requests touch exists once before counting.
    await ask("Warmup");
    await failing("WarmupFailing");
    const before = await scrape();
    const seriesOf = (text: string) =>
      new Set(
        text
          .split("\n")
          .filter((l) => l && !l.startsWith("#"))
          .map((l) => l.slice(0, l.lastIndexOf(" "))),
      );

    const names = Array.from({ length: 2000 }, (_, i) => `Op${i}_${randomBytes(4).toString("hex")}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((name, j) => (j % 5 === 0 ? failing(name) : ask(name))));
    }

    const startedAt = performance.now();
    const after = await scrape();
    const scrapeMs = performance.now() - startedAt;
    expect([...seriesOf(after.text)].filter((s) => !seriesOf(before.text).has(s))).toEqual([]);
    // Only the counts' digits grow.
    expect(after.text.length - before.text.length).toBeLessThan(4000);
    expect(after.text.length).toBeLessThan(200_000);
    expect(scrapeMs).toBeLessThan(500);
    for (const name of names.slice(0, 50)) expect(after.text).not.toContain(name);
  }, 180_000);
});

describe("METRICS_* configuration (readConfig)", () => {
  it("defaults to 127.0.0.1:9464 without a token", () => {
    expect(readConfig({}).metrics).toEqual({ port: 9464, host: "127.0.0.1", token: undefined });
    expect(readConfig({ METRICS_PORT: "" }).metrics?.port).toBe(9464);
  });

  it("takes a port (0: any free one), a host and a token; METRICS_PORT=off disables the listener", () => {
    expect(readConfig({ METRICS_PORT: "0", METRICS_HOST: "0.0.0.0", METRICS_TOKEN: " t0ken " }).metrics).toEqual({ port: 0, host: "0.0.0.0", token: "t0ken" });
    expect(readConfig({ METRICS_PORT: "off" }).metrics).toBeUndefined();
    expect(readConfig({ METRICS_PORT: "OFF" }).metrics).toBeUndefined();
  });

  it("refuses a malformed port and the API's own port", () => {
    for (const value of ["-1", "65536", "9464x", "no", "1e3"]) expect(() => readConfig({ METRICS_PORT: value }), value).toThrow(/METRICS_PORT/);
    expect(() => readConfig({ PORT: "4000", METRICS_PORT: "4000" })).toThrow(/differ from PORT/);
  });
});

describe("CORS_ORIGINS (readConfig)", () => {
  it("is empty (no cross-origin access) unless set; takes exact origins or *", () => {
    expect(readConfig({}).corsOrigins).toEqual([]);
    expect(readConfig({ CORS_ORIGINS: " https://app.example.com, http://localhost:3000/ " }).corsOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:3000",
    ]);
    expect(readConfig({ CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
  });

  it("refuses what is not an origin", () => {
    for (const value of ["app.example.com", "https://app.example.com/path", "ftp://x.example", "*, https://a.example"]) {
      expect(() => readConfig({ CORS_ORIGINS: value }), value).toThrow(/CORS_ORIGINS/);
    }
  });
});
