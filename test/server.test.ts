// The runtime interface as operators use it: `npm start`'s entry point with
// PORT, HOST, DATA_DIR and no OPERATOR_TOKEN, on the embedded database.
import { readFileSync, statSync } from "node:fs";
import { createServer, request } from "node:http";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { killServers, startServer } from "./helpers/server.js";

afterAll(killServers);

describe("the server process", () => {
  it("starts on the embedded database, generates and reports the operator token, answers /health, and stops cleanly on SIGTERM", async () => {
    const server = await startServer({ NODE_ENV: "production" });
    const tokenFile = path.join(server.dataDir, "operator-token");
    expect(server.output()).toContain(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();

    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
    const anonymous = await fetch(`${server.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"query":"{ viewer { role } }"}',
    });
    expect(anonymous.status).toBe(401);
    const asOperator = await fetch(`${server.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: '{"query":"{ viewer { role } }"}',
    });
    expect(await asOperator.json()).toEqual({ data: { viewer: { role: "OPERATOR" } } });

    // SIGTERM while a request is in flight: it still gets its answer, then the process exits 0.
    const inFlight = fetch(`${server.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: '{"query":"{ managers(first: 250) { totalCount nodes { id email subAccounts { totalCount } } } }"}',
    });
    await new Promise((r) => setTimeout(r, 5));
    const exited = server.stop("SIGTERM");
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect((await answered.json()).data.managers.totalCount).toBe(0);
    expect(await exited).toBe(0);
    expect(server.output()).toContain('"message":"stopped"');
  }, 300_000);

  it("refuses a second process on the same embedded data folder with a clear message", async () => {
    const first = await startServer();
    const second = await startServer({ DATA_DIR: first.dataDir }).then(
      () => "started",
      (error: Error) => error.message,
    );
    expect(second).toMatch(/is in use by process \d+/);
    expect(await first.stop()).toBe(0);
  }, 300_000);

  it("ignores WEB_CONCURRENCY on the embedded database, with a warning, and serves as one process", async () => {
    const server = await startServer({ WEB_CONCURRENCY: "2" });
    expect(server.output()).toContain("WEB_CONCURRENCY is ignored without DATABASE_URL");
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
    expect(server.output().match(/listening on/g)).toHaveLength(1);
    expect(await server.stop()).toBe(0);
  }, 300_000);

  it("stops with a clear message when METRICS_PORT is taken, and serves no metrics with METRICS_PORT=off", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = String((taken.address() as { port: number }).port);
    const outcome = await startServer({ METRICS_PORT: port }).then(
      () => "started",
      (error: Error) => error.message,
    );
    taken.close();
    expect(outcome).toMatch(/exited with 1 before listening/);
    expect(outcome).toContain(`metrics port ${port} on 127.0.0.1 is in use`);

    const off = await startServer({ METRICS_PORT: "off" });
    expect(off.metricsUrl).toBeUndefined();
    expect(off.output()).toContain("metrics are off");
    expect(await off.stop()).toBe(0);
  }, 300_000);

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    "with WEB_CONCURRENCY=2 on Postgres runs two workers on one port, sharing one rate-limit budget per key, and stops them all on SIGTERM",
    async () => {
      const server = await startServer({
        DATABASE_URL: process.env.TEST_DATABASE_URL!,
        WEB_CONCURRENCY: "2",
        OPERATOR_TOKEN: "op_cluster_test_token_0123456789abcdef",
        RATE_LIMIT_PER_KEY: "30",
      });
      // The first worker listening is enough to serve; wait for the second too.
      for (let i = 0; i < 100 && (server.output().match(/listening on/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(
        server
          .output()
          .match(/"worker":\d/g)
          ?.sort(),
      ).toEqual(['"worker":0', '"worker":1']);
      // A new connection per request: the primary hands connections to the workers in turn.
      const ask = () =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            `${server.baseUrl}/graphql`,
            { method: "POST", agent: false, headers: { "content-type": "application/json", authorization: "Bearer op_cluster_test_token_0123456789abcdef" } },
            (res) => {
              res.resume();
              resolve(res.statusCode!);
            },
          );
          req.on("error", reject);
          req.end('{"query":"{ viewer { role } }"}');
        });
      // 40 requests, 20 to each worker, against a budget of 30: one budget, kept by the primary.
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push(await ask());
      expect(statuses.filter((s) => s === 200)).toHaveLength(30);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      // One metrics port for the cluster: the primary sums both workers' counts.
      expect(server.output()).toContain("metrics served on");
      const scraped = await (await fetch(server.metricsUrl!)).text();
      const count = (status: number) => Number(new RegExp(`graphql_yoga_http_duration_count\\{[^}]*statusCode="${status}"[^}]*\\} (\\d+)`).exec(scraped)?.[1]);
      expect(count(200)).toBe(30);
      expect(count(429)).toBe(10);
      expect(await server.stop("SIGTERM")).toBe(0);
      expect(server.output()).toContain('"message":"stopped"');
    },
    300_000,
  );

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    "with WEB_CONCURRENCY=2 on a port already in use stops at once with a clear message, instead of replacing its workers",
    async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const port = String((taken.address() as { port: number }).port);
      const startedAt = Date.now();
      const outcome = await startServer({
        DATABASE_URL: process.env.TEST_DATABASE_URL!,
        WEB_CONCURRENCY: "2",
        PORT: port,
        OPERATOR_TOKEN: "op_cluster_test_token_0123456789abcdef",
      }).then(
        () => "started",
        (error: Error) => error.message,
      );
      taken.close();
      expect(outcome).toMatch(/exited with 1 before listening/);
      expect(outcome).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(outcome).not.toContain("starting another");
      expect(Date.now() - startedAt).toBeLessThan(60_000);
    },
    120_000,
  );
});
