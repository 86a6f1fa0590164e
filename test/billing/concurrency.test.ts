// DOMAIN.md's invariants under concurrency, through the HTTP layer: requests
// fired at once, then the database checked with SQL. On PGlite (the default)
// and on a real Postgres when TEST_DATABASE_URL is set.
import { describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { OPERATOR_TOKEN, tallyTypenames } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp } from "../helpers/factories.js";
import { dbId, expectInvariants, ofType, recordUsage, result, topUpAs, transfer } from "./operations.js";

const database = process.env.TEST_DATABASE_KIND ?? "pglite";

/** Counts results by __typename. */

/** A manager paying 0.01 per SMS_OUTBOUND. */
async function smsManager() {
  const manager = await createManager();
  await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
  return manager;
}

describe(`concurrent billing (${database})`, () => {
  it("60 concurrent charges against a shared balance with room for 20: exactly 20 succeed", async () => {
    const manager = await smsManager();
    const subs = await Promise.all([0, 1, 2].map(() => createSubAccount(manager, { rollupBilling: true })));
    await topUp(manager.id, "0.20");
    const callers = [manager, ...subs];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const caller = callers[i % callers.length]!;
        return recordUsage(caller.token, { accountId: caller.id }).then(result);
      }),
    );
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 20, InsufficientFundsError: 40 });
    const balance = await prisma.account.findUniqueOrThrow({ where: { id: dbId(manager.id) } });
    expect(balance.balanceMicros).toBe(0n);
    expect(await prisma.usageRecord.count({ where: { accountId: { in: callers.map((c) => dbId(c.id)) } } })).toBe(20);
    await expectInvariants(callers.map((c) => c.id));
  });

  it("60 concurrent charges against a credit limit with room for 20: exactly 20 succeed", async () => {
    const manager = await smsManager();
    const sub = await createSubAccount(manager, { creditLimit: "0.20" });
    await topUp(sub.id, "100", manager.token);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => recordUsage(i % 2 ? sub.token : manager.token, { accountId: sub.id }).then(result)));
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 20, CreditLimitExceededError: 40 });
    const row = await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } });
    expect([row.totalSpentMicros, row.balanceMicros]).toEqual([200_000n, 99_800_000n]);
    await expectInvariants([manager.id, sub.id]);
  });

  it("the same idempotency key sent 30 times at once: one record, one charge, the same answer 30 times", async () => {
    const manager = await smsManager();
    const sub = await createSubAccount(manager, { rollupBilling: true });
    await topUp(manager.id, "1");
    const results = await Promise.all(
      Array.from({ length: 30 }, () => recordUsage(sub.token, { accountId: sub.id, quantity: 5, idempotencyKey: "once" }).then(result)),
    );
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 30 });
    expect(new Set(results.map((r) => ofType(r, "RecordUsageSuccess").usageRecord.id)).size).toBe(1);
    expect(await prisma.usageRecord.count({ where: { accountId: dbId(sub.id) } })).toBe(1);
    expect(await prisma.ledgerEntry.count({ where: { causedByAccountId: dbId(sub.id) } })).toBe(1);
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(manager.id) } })).balanceMicros).toBe(950_000n);
    await expectInvariants([manager.id, sub.id]);
  });

  it("12 concurrent top-ups with distinct keys: exactly 5 succeed, the rest are rate limited; 20 replays of one key add funds once", async () => {
    const manager = await createManager();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => topUpAs(i % 2 ? manager.token : OPERATOR_TOKEN, { accountId: manager.id, amount: "1" }).then(result)),
    );
    expect(tallyTypenames(results)).toEqual({ TopUpBalanceSuccess: 5, RateLimitedError: 7 });
    expect(await prisma.topUp.count({ where: { accountId: dbId(manager.id) } })).toBe(5);

    const sub = await createSubAccount(manager);
    const replays = await Promise.all(
      Array.from({ length: 20 }, () => topUpAs(manager.token, { accountId: sub.id, amount: "2.5", idempotencyKey: "card-1" }).then(result)),
    );
    expect(tallyTypenames(replays)).toEqual({ TopUpBalanceSuccess: 20 });
    expect(await prisma.topUp.count({ where: { accountId: dbId(sub.id) } })).toBe(1);
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } })).balanceMicros).toBe(2_500_000n);
    await expectInvariants([manager.id, sub.id]);
  });

  it("transfers both ways, charges and top-ups at once keep every balance equal to its ledger and never negative", async () => {
    const manager = await smsManager();
    const [a, b] = await Promise.all([createSubAccount(manager), createSubAccount(manager)]);
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    await topUp(manager.id, "1");
    await topUp(a.id, "0.5", manager.token);
    const work: Promise<{ __typename: string }>[] = [];
    for (let i = 0; i < 15; i++) {
      work.push(transfer(manager.token, { fromAccountId: manager.id, toAccountId: a.id, amount: "0.07" }).then(result));
      work.push(transfer(manager.token, { fromAccountId: a.id, toAccountId: manager.id, amount: "0.05" }).then(result));
      work.push(transfer(OPERATOR_TOKEN, { fromAccountId: a.id, toAccountId: b.id, amount: "0.03" }).then(result));
      work.push(transfer(manager.token, { fromAccountId: b.id, toAccountId: a.id, amount: "0.02" }).then(result));
      work.push(recordUsage(a.token, { accountId: a.id, quantity: 2 }).then(result));
      work.push(recordUsage(rollup.token, { accountId: rollup.id, quantity: 3 }).then(result));
    }
    work.push(topUpAs(manager.token, { accountId: b.id, amount: "0.1" }).then(result));
    const results = await Promise.all(work);
    // Every outcome is a typed result: no lost updates, no deadlock or masked error.
    for (const r of results) {
      expect(["TransferBalanceSuccess", "RecordUsageSuccess", "TopUpBalanceSuccess", "InsufficientFundsError"]).toContain(r.__typename);
    }
    await expectInvariants([manager.id, a.id, b.id, rollup.id]);
    // Money is neither made nor lost: what came in, less what was charged.
    const ids = [manager, a, b, rollup].map((x) => dbId(x.id));
    const rows = await prisma.account.findMany({ where: { id: { in: ids } } });
    const total = rows.reduce((sum, r) => sum + r.balanceMicros, 0n);
    const charged = rows.reduce((sum, r) => sum + r.totalSpentMicros, 0n);
    expect(total + charged).toBe(1_600_000n);
  });
});
