// WEB_CONCURRENCY workers under a stream of charges (issue 15): a worker
// killed with SIGKILL is replaced, and only the requests it held fail (the
// other worker goes on answering); SIGTERM to the primary stops every worker
// within the grace period, and every acknowledged charge is in the ledger
// exactly once. Needs a real Postgres: workers need DATABASE_URL.
import { readFileSync } from "node:fs";
import http from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { expectInvariants } from "../billing/operations.js";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, unique } from "../helpers/factories.js";
import { dbId } from "../helpers/ids.js";
import { waitFor } from "../helpers/remote.js";
import { killServers, startServer } from "../helpers/server.js";

const databaseUrl = process.env.TEST_DATABASE_URL;
afterAll(killServers);

const GRACE_MS = 5_000;
const CHARGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on RecordUsageSuccess { usageRecord { id } } } }`;

/** The pids of a process's children (its cluster workers). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

/** One POST on a connection of its own, so the cluster hands each request to the next worker. */
function postOnce(port: number, token: string, payload: unknown): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, body: text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

describe("WEB_CONCURRENCY workers", () => {
  it.skipIf(!databaseUrl)(
    "replace a killed worker without failing the other's requests, and stop within the grace period on SIGTERM, losing no acknowledged charge",
    async () => {
      const server = await startServer({ DATABASE_URL: databaseUrl!, OPERATOR_TOKEN, WEB_CONCURRENCY: "2", SHUTDOWN_GRACE_MS: String(GRACE_MS) }, 90_000);
      const primary = server.child.pid!;
      await waitFor(async () => childrenOf(primary).length === 2 && (server.output().match(/gateway listening/g) ?? []).length === 2, { timeoutMs: 60_000 });

      const manager = await createManager();
      await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
      const sub = await createSubAccount(manager);
      await topUp(sub.id, "1000", manager.token);

      const acknowledged = new Set<string>();
      const outcomes: { at: number; ok: boolean }[] = [];
      let running = true;
      const clients = Array.from({ length: 4 }, async () => {
        while (running) {
          const key = unique("w");
          try {
            const reply = await postOnce(server.port, sub.token, {
              query: CHARGE,
              variables: { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: key } },
            });
            const ok = reply.status === 200 && reply.body.includes("RecordUsageSuccess");
            if (ok) acknowledged.add(key);
            outcomes.push({ at: Date.now(), ok });
          } catch {
            outcomes.push({ at: Date.now(), ok: false });
            if (!running) return;
          }
        }
      });

      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      const [victim] = childrenOf(primary);
      const killedAt = Date.now();
      process.kill(victim!, "SIGKILL");
      const toReplaced = await waitFor(async () => childrenOf(primary).length === 2 && !childrenOf(primary).includes(victim!), {
        timeoutMs: 20_000,
        everyMs: 50,
      });
      await waitFor(async () => (server.output().match(/gateway listening/g) ?? []).length === 3, { timeoutMs: 30_000, everyMs: 50 });
      const replacedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1500));

      // Only what the killed worker held failed: at most one request per client, at the kill.
      const failed = outcomes.filter((o) => !o.ok);
      expect(failed.length).toBeLessThanOrEqual(4);
      for (const o of failed) expect(o.at - killedAt).toBeLessThan(1000);
      const whileReplacing = outcomes.filter((o) => o.at > killedAt + 1000 && o.at < replacedAt);
      expect(whileReplacing.every((o) => o.ok)).toBe(true);
      expect(outcomes.filter((o) => o.at > replacedAt).every((o) => o.ok)).toBe(true);
      expect(server.output()).toContain("worker exited; starting another");

      const signalledAt = Date.now();
      const exitCode = await server.stop("SIGTERM");
      const shutdownMs = Date.now() - signalledAt;
      running = false;
      await Promise.all(clients);
      expect(exitCode).toBe(0);
      expect(shutdownMs).toBeLessThan(GRACE_MS + 3000);

      const rows = await prisma.usageRecord.findMany({ where: { accountId: dbId(sub.id) }, select: { idempotencyKey: true } });
      const stored = new Set(rows.map((r) => r.idempotencyKey));
      for (const key of acknowledged) expect(stored.has(key), key).toBe(true);
      expect(stored.size).toBe(rows.length);
      await expectInvariants([sub.id, manager.id]);
      console.log(
        `workers: a killed worker was replaced after ${toReplaced} ms with ${failed.length} failed requests (the killed worker's); ` +
          `SIGTERM stopped both workers in ${shutdownMs} ms (grace ${GRACE_MS}); ${acknowledged.size} charges acknowledged, all in the ledger, ${rows.length} rows`,
      );
    },
    180_000,
  );
});
