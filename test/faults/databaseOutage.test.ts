// The database goes away under a stream of charges and comes back (issue 15):
// a TCP proxy the test controls sits between a gateway process and Postgres.
// While it is cut, every request is an honest 503 SERVICE_UNAVAILABLE with
// Retry-After (never a 500), readiness is 503, and liveness stays 200; once it
// is restored the gateway recovers by itself; and the ledger holds exactly the
// acknowledged charges: a charge in flight at the cut either committed or left
// nothing, and its idempotent replay after recovery cannot charge twice.
// Needs a real Postgres: the embedded database lives inside the process.
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { expectInvariants } from "../billing/operations.js";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";
import { postGraphQL, readiness, waitFor } from "../helpers/remote.js";
import { killServers, startServer } from "../helpers/server.js";
import { startTcpProxy } from "../helpers/tcpProxy.js";

const databaseUrl = process.env.TEST_DATABASE_URL;
afterAll(killServers);

const CHARGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  __typename ... on RecordUsageSuccess { usageRecord { id idempotencyKey } } ... on Error { code } } }`);

interface Observation {
  at: number;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the database goes away and comes back", () => {
  it.skipIf(!databaseUrl)(
    "answers 503 SERVICE_UNAVAILABLE with Retry-After and readiness 503 while it is away, recovers by itself, and loses or doubles no charge",
    async () => {
      const target = new URL(databaseUrl!);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const viaProxy = new URL(databaseUrl!);
      viaProxy.hostname = "127.0.0.1";
      viaProxy.port = String(proxy.port);
      const server = await startServer({ DATABASE_URL: viaProxy.toString(), OPERATOR_TOKEN, DATABASE_ACQUIRE_TIMEOUT_MS: "1000" }, 90_000);

      const manager = await createManager();
      await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
      const sub = await createSubAccount(manager);
      await topUp(sub.id, "100", manager.token);

      // Four clients charging in a loop, each charge with its own idempotency key.
      const acknowledged = new Map<string, string>();
      const unacknowledged = new Set<string>();
      const observations: Observation[] = [];
      let running = true;
      const charge = (key: string) =>
        postGraphQL(server.baseUrl, sub.token, CHARGE, { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: key } });
      const clients = Array.from({ length: 4 }, async () => {
        while (running) {
          const key = unique("charge");
          try {
            const res = await charge(key);
            observations.push({ at: Date.now(), status: res.status, code: res.body.errors?.[0]?.extensions?.code, retryAfter: res.headers.get("retry-after") });
            const result = res.body.data?.recordUsage;
            if (res.status === 200 && result?.__typename === "RecordUsageSuccess") acknowledged.set(key, result.usageRecord.id);
            else unacknowledged.add(key);
          } catch {
            unacknowledged.add(key);
            await sleep(50);
          }
        }
      });

      await sleep(1500);
      expect(acknowledged.size).toBeGreaterThan(0);
      expect(await readiness(server.baseUrl)).toBe(200);

      const cutAt = Date.now();
      proxy.cut();
      const toFirst503 = await waitFor(async () => observations.some((o) => o.at > cutAt && o.status === 503), { timeoutMs: 10_000, everyMs: 20 });
      const toNotReady = await waitFor(async () => (await readiness(server.baseUrl)) === 503, { timeoutMs: 10_000, everyMs: 50 });
      await sleep(4000);
      // Liveness is not readiness: the process runs, it just cannot serve.
      expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
      const duringOutage = observations.filter((o) => o.at > cutAt + toFirst503);
      expect(duringOutage.length).toBeGreaterThan(0);

      const restoredAt = Date.now();
      proxy.restore();
      const toReady = await waitFor(async () => (await readiness(server.baseUrl)) === 200, { timeoutMs: 15_000, everyMs: 50 });
      const toCharging = await waitFor(async () => observations.some((o) => o.at > restoredAt && o.status === 200), { timeoutMs: 15_000, everyMs: 20 });
      await sleep(500);
      running = false;
      await Promise.all(clients);

      // Every refusal was a 503 SERVICE_UNAVAILABLE with Retry-After: no 500, no "Unexpected error."
      const refusals = observations.filter((o) => o.status !== 200);
      expect(refusals.length).toBeGreaterThan(0);
      for (const o of refusals) expect(o).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE", retryAfter: expect.stringMatching(/^\d+$/) });

      // Replay every charge that got no acknowledgement: whether it committed
      // before the cut or left nothing, the replay acknowledges it once.
      for (const key of unacknowledged) {
        const res = await charge(key);
        const result = res.body.data?.recordUsage;
        expect(result?.__typename, JSON.stringify(res.body)).toBe("RecordUsageSuccess");
        if (result?.__typename === "RecordUsageSuccess") acknowledged.set(key, result.usageRecord.id);
      }
      const rows = await prisma.usageRecord.findMany({ where: { accountId: dbId(sub.id) }, select: { id: true, idempotencyKey: true } });
      expect(rows.length).toBe(acknowledged.size);
      expect(new Map(rows.map((r) => [r.idempotencyKey, r.id]))).toEqual(new Map([...acknowledged].map(([key, id]) => [key, dbId(id)])));
      await expectInvariants([sub.id, manager.id]);

      console.log(
        `database outage: first 503 ${toFirst503} ms after the cut, readiness 503 after ${toNotReady} ms; ` +
          `readiness 200 ${toReady} ms after the restore, charges succeed after ${toCharging} ms; ` +
          `${observations.length} requests, ${refusals.length} refused with 503, ${unacknowledged.size} replayed, ${rows.length} charges in the ledger`,
      );
      expect(toNotReady).toBeLessThan(3000);
      await server.stop();
      await proxy.close();
    },
    120_000,
  );
});
