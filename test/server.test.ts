// The runtime interface as operators use it: `npm start`'s entry point with
// PORT, HOST, DATA_DIR and no OPERATOR_TOKEN, on the embedded database.
import { readFileSync, statSync } from "node:fs";
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
    const anonymous = await fetch(`${server.baseUrl}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ viewer { role } }"}' });
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
});
