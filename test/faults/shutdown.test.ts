// SIGTERM under a steady keep-alive stream (issue 15): the process stops
// taking requests at once (a request on a kept-alive connection after the
// signal is refused with 503 and `Connection: close`, or its connection is
// closed), finishes the ones in flight within the grace period, and exits;
// every request that got a 2xx is in the database after a restart.
import http from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { unique } from "../helpers/factories.js";
import { killServers, type ServerProcess, startServer } from "../helpers/server.js";

afterAll(killServers);

const GRACE_MS = 5_000;

interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
}

/** One POST over `agent` (kept-alive sockets), with the raw Connection header the server sent. */
function post(server: ServerProcess, agent: http.Agent, token: string, payload: unknown): Promise<Reply> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${server.baseUrl}/graphql`,
      { method: "POST", agent, headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "content-length": Buffer.byteLength(body) } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, connection: response.headers.connection, body: text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const CREATE_MANAGER = `mutation($input: CreateManagerInput!) { createManager(input: $input) { __typename ... on CreateManagerSuccess { secret manager { id } } } }`;
const CREATE_SUB = `mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) { __typename ... on CreateSubAccountSuccess { subAccount { id } } } }`;
const TREE = `query($after: String) { viewer { account { ... on Manager { subAccounts(first: 250, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id email } } } } } }`;

describe("SIGTERM under load", () => {
  it("refuses what arrives after the signal, finishes what is in flight, exits within the grace period, and loses no acknowledged write", async () => {
    const server = await startServer({ OPERATOR_TOKEN, SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    const created = JSON.parse(
      (
        await post(server, agent, OPERATOR_TOKEN, {
          query: CREATE_MANAGER,
          variables: { input: { email: `${unique("m")}@example.com`, organizationName: "Acme" } },
        })
      ).body,
    );
    const managerToken: string = created.data.createManager.secret;

    // Six clients on kept-alive sockets: writes (sub-accounts) and reads, back to back.
    const written: string[] = [];
    const replies: { at: number; reply: Reply }[] = [];
    const failures: { at: number; error: string }[] = [];
    let signalledAt = Number.POSITIVE_INFINITY;
    let running = true;
    const clients = Array.from({ length: 6 }, async (_, i) => {
      while (running) {
        const write = i % 2 === 0;
        const email = `${unique("s")}@example.com`;
        const payload = write ? { query: CREATE_SUB, variables: { input: { email, organizationName: "Customer" } } } : { query: TREE };
        try {
          const reply = await post(server, agent, managerToken, payload);
          replies.push({ at: Date.now(), reply });
          if (write && reply.status === 200 && reply.body.includes("CreateSubAccountSuccess")) written.push(email);
        } catch (error) {
          failures.push({ at: Date.now(), error: (error as NodeJS.ErrnoException).code ?? String(error) });
          if (Date.now() > signalledAt) return;
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = replies.length;
    signalledAt = Date.now();
    const exitCode = await server.stop("SIGTERM");
    const shutdownMs = Date.now() - signalledAt;
    running = false;
    await Promise.all(clients);
    agent.destroy();

    expect(exitCode).toBe(0);
    expect(shutdownMs).toBeLessThan(GRACE_MS + 3000);
    expect(before).toBeGreaterThan(10);
    // After the signal: 503 SERVICE_UNAVAILABLE with Connection: close, or a closed connection; any 2xx closed its connection.
    for (const { reply } of replies.filter((r) => r.at > signalledAt)) {
      expect([200, 503]).toContain(reply.status);
      if (reply.status === 503) expect(JSON.parse(reply.body).errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
    }
    for (const failure of failures) expect(["ECONNRESET", "ECONNREFUSED", "EPIPE", "socket hang up"]).toContain(failure.error.replace(/^Error: /, ""));
    expect(server.output()).toContain('"message":"stopped"');

    // Every acknowledged write survived: restart on the same data folder and read them back.
    const again = await startServer({ OPERATOR_TOKEN, DATA_DIR: server.dataDir });
    const check = new http.Agent({ keepAlive: false });
    const emails = new Set<string>();
    let after: string | null = null;
    let totalCount = 0;
    do {
      const page: { totalCount: number; nodes: { email: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = JSON.parse(
        (await post(again, check, managerToken, { query: TREE, variables: { after } })).body,
      ).data.viewer.account.subAccounts;
      for (const node of page.nodes) emails.add(node.email);
      totalCount = page.totalCount;
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    for (const email of written) expect(emails.has(email), email).toBe(true);
    expect(emails.size).toBe(totalCount);
    expect(totalCount).toBeGreaterThanOrEqual(written.length);
    console.log(
      `shutdown under load: exited ${shutdownMs} ms after SIGTERM (grace ${GRACE_MS} ms); ${before} requests before the signal, ${written.length} writes acknowledged, all present after restart`,
    );
    await again.stop();
  }, 120_000);
});
