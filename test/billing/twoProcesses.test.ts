// Two gateway processes on one Postgres keep DOMAIN.md's invariants: the
// guarantees live in the database (conditional UPDATEs, row locks, unique
// idempotency claims), not in one process's memory. Needs a real Postgres:
// PGlite is one in-process session that a second process cannot share.
import type { TadaDocumentNode } from "gql.tada";
import { print } from "graphql";
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { OPERATOR_TOKEN, tallyTypenames } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, unique } from "../helpers/factories.js";
import { killServers, startServer } from "../helpers/server.js";
import { dbId, expectInvariants, ofType, RECORD_USAGE, TOP_UP } from "./operations.js";

const databaseUrl = process.env.TEST_DATABASE_URL;
afterAll(killServers);

/** Starts `src/server.ts` on the test database; resolves with its GraphQL URL once it listens. */
async function startGateway(): Promise<string> {
  const server = await startServer({ DATABASE_URL: databaseUrl!, OPERATOR_TOKEN }, 90_000);
  return `${server.baseUrl}/graphql`;
}

/** One GraphQL request over real HTTP; returns the mutation's result object. */
async function send<R, I>(url: string, token: string, query: TadaDocumentNode<R, { input: I }>, input: I): Promise<R[keyof R]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(query), variables: { input } }),
  });
  // The gateway answers `query` with data of its document's type (as gql in test/helpers/app.ts reads it).
  const body = (await response.json()) as { data?: R; errors?: unknown[] };
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
  return Object.values(body.data as object)[0] as R[keyof R];
}

describe("two gateway processes on one Postgres", () => {
  it.skipIf(!databaseUrl)(
    "share one balance, one credit limit, one top-up limit and one idempotency key without breaking an invariant",
    async () => {
      const [a, b] = await Promise.all([startGateway(), startGateway()]);
      const gateways = [a, b];
      const manager = await createManager();
      await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
      const subs = await Promise.all([0, 1, 2, 3].map(() => createSubAccount(manager, { rollupBilling: true })));
      const capped = await createSubAccount(manager, { creditLimit: "0.15" });
      await topUp(manager.id, "0.25");
      await topUp(capped.id, "10", manager.token);

      // 80 charges against room for 25 on the shared balance, and 40 against a
      // credit limit with room for 15, alternating between the two processes.
      const shared = Array.from({ length: 80 }, (_, i) => {
        const sub = subs[i % subs.length]!;
        return send(gateways[i % 2]!, sub.token, RECORD_USAGE, { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("u") });
      });
      const limited = Array.from({ length: 40 }, (_, i) =>
        send(gateways[i % 2]!, capped.token, RECORD_USAGE, { accountId: capped.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("c") }),
      );
      // One key sent 20 times to each process, by two callers: keys are scoped
      // to the caller, so it takes effect once for the sub-account and once
      // for its manager.
      const single = await createSubAccount(manager);
      await topUp(single.id, "1", manager.token);
      const once = Array.from({ length: 40 }, (_, i) =>
        send(gateways[i % 2]!, i % 3 ? single.token : manager.token, RECORD_USAGE, {
          accountId: single.id,
          product: "SMS_OUTBOUND",
          quantity: 1,
          idempotencyKey: "both-processes",
        }),
      );
      // 12 top-ups of a fresh own balance: 5 may succeed.
      const own = await createSubAccount(manager);
      const topUps = Array.from({ length: 12 }, (_, i) =>
        send(gateways[i % 2]!, manager.token, TOP_UP, { accountId: own.id, amount: "1", idempotencyKey: unique("t") }),
      );
      const [sharedResults, limitedResults, onceResults, topUpResults] = await Promise.all([
        Promise.all(shared),
        Promise.all(limited),
        Promise.all(once),
        Promise.all(topUps),
      ]);

      expect(tallyTypenames(sharedResults)).toEqual({ RecordUsageSuccess: 25, InsufficientFundsError: 55 });
      expect(tallyTypenames(limitedResults)).toEqual({ RecordUsageSuccess: 15, CreditLimitExceededError: 25 });
      expect(tallyTypenames(onceResults)).toEqual({ RecordUsageSuccess: 40 });
      const idsBy = (caller: (i: number) => boolean) =>
        new Set(onceResults.filter((_, i) => caller(i)).map((r) => ofType(r, "RecordUsageSuccess").usageRecord.id));
      const bySub = idsBy((i) => i % 3 !== 0);
      const byManager = idsBy((i) => i % 3 === 0);
      expect([bySub.size, byManager.size]).toEqual([1, 1]);
      expect([...bySub][0]).not.toBe([...byManager][0]);
      expect(await prisma.usageRecord.count({ where: { accountId: dbId(single.id) } })).toBe(2);
      expect(tallyTypenames(topUpResults)).toEqual({ TopUpBalanceSuccess: 5, RateLimitedError: 7 });
      const balances = await prisma.account.findMany({ where: { id: { in: [manager, capped, single, own].map((x) => dbId(x.id)) } } });
      const byId = new Map(balances.map((r) => [r.id, r]));
      expect(byId.get(dbId(manager.id))!.balanceMicros).toBe(0n);
      expect(byId.get(dbId(capped.id))!.totalSpentMicros).toBe(150_000n);
      expect(byId.get(dbId(single.id))!.balanceMicros).toBe(980_000n);
      expect(byId.get(dbId(own.id))!.balanceMicros).toBe(5_000_000n);
      await expectInvariants([manager.id, capped.id, single.id, own.id, ...subs.map((s) => s.id)]);
    },
    180_000,
  );

  it.skipIf(databaseUrl)("is skipped: set TEST_DATABASE_URL to a Postgres database to run two gateway processes against it", () => {});
});
