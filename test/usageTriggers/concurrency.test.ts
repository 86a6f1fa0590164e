// Usage triggers under concurrent charges, through the HTTP layer, on PGlite
// (where transactions take turns) and on Postgres (TEST_DATABASE_URL, where
// they race): a trigger fires exactly once, a SUSPEND trigger lets exactly
// the crossing charge and those before it through, DOMAIN.md's invariants
// hold; and accounts without triggers still pay one statement per charge.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { prisma } from "../../src/db/client.js";
import { expectInvariants, recordUsage, result } from "../billing/operations.js";
import { countStatements, gqlData, OPERATOR_TOKEN, tallyTypenames } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";
import { countEvents, deleteTrigger, newTrigger, triggerRow } from "./operations.js";

const database = process.env.TEST_DATABASE_KIND ?? "pglite";

/** A manager paying 0.01 per SMS_OUTBOUND, with `funds` on its balance. */
async function smsManager(funds = "10") {
  const manager = await createManager();
  await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
  await topUp(manager.id, funds);
  return manager;
}

describe(`usage triggers under concurrent charges (${database})`, () => {
  it("60 concurrent charges against a SUSPEND trigger the 20th crosses: 20 charged, 40 refused, one firing, one suspension", async () => {
    const manager = await smsManager();
    const sub = await createSubAccount(manager);
    await topUp(sub.id, "10", manager.token);
    const trigger = await newTrigger(manager.token, { accountId: sub.id, condition: "SPEND_REACHES", threshold: "0.20", action: "SUSPEND" });
    const callers = [sub.token, manager.token, OPERATOR_TOKEN];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => recordUsage(callers[i % 3]!, { accountId: sub.id }).then(result)));
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 20, AccountNotActiveError: 40 });
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    expect(await countEvents(sub.id, "SUB_ACCOUNT_SUSPENDED")).toBe(1);
    const account = await prisma.account.findUniqueOrThrow({ where: { id: dbId(sub.id) } });
    expect([account.status, account.totalSpentMicros, account.balanceMicros]).toEqual(["SUSPENDED", 200_000n, 9_800_000n]);
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(200_000n);
    expect(await prisma.usageRecord.count({ where: { accountId: dbId(sub.id) } })).toBe(20);
    await expectInvariants([manager.id, sub.id]);
  });

  it("a NOTIFY spend trigger under 60 concurrent charges fires exactly once and counts every charge", async () => {
    const manager = await smsManager();
    const sub = await createSubAccount(manager, { rollupBilling: true });
    const trigger = await newTrigger(sub.token, { accountId: sub.id, condition: "SPEND_REACHES", threshold: "0.30" });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => recordUsage(i % 2 ? sub.token : manager.token, { accountId: sub.id }).then(result)));
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 60 });
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    expect((await triggerRow(trigger.id)).periodSpentMicros).toBe(600_000n);
    await expectInvariants([manager.id, sub.id]);
  });

  it("a manager's balance trigger under 60 concurrent charges of the manager and three rollup sub-accounts fires exactly once", async () => {
    const manager = await smsManager("1");
    const subs = await Promise.all([0, 1, 2].map(() => createSubAccount(manager, { rollupBilling: true })));
    await newTrigger(manager.token, { accountId: manager.id, condition: "BALANCE_FALLS_TO", threshold: "0.50" });
    const callers = [manager, ...subs];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const caller = callers[i % callers.length]!;
        return recordUsage(caller.token, { accountId: caller.id }).then(result);
      }),
    );
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 60 });
    expect(await countEvents(manager.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    expect((await prisma.account.findUniqueOrThrow({ where: { id: dbId(manager.id) } })).balanceMicros).toBe(400_000n);
    await expectInvariants(callers.map((c) => c.id));
  });

  it("a trigger created while charges run counts each charge exactly once: its period's spend equals the usage records'", async () => {
    const manager = await smsManager();
    const sub = await createSubAccount(manager);
    await topUp(sub.id, "10", manager.token);
    const charges = Array.from({ length: 40 }, () => recordUsage(sub.token, { accountId: sub.id }).then(result));
    const created = new Promise((resolve) => setTimeout(resolve, 5)).then(() =>
      newTrigger(manager.token, { accountId: sub.id, condition: "SPEND_REACHES", threshold: "100" }),
    );
    const [trigger, ...results] = await Promise.all([created, ...charges]);
    expect(tallyTypenames(results)).toEqual({ RecordUsageSuccess: 40 });
    const row = await triggerRow(trigger.id);
    const usage = await prisma.usageRecord.aggregate({ where: { accountId: dbId(sub.id), createdAt: { gte: row.periodStart! } }, _sum: { costMicros: true } });
    expect(row.periodSpentMicros).toBe(usage._sum.costMicros);
    expect(row.periodSpentMicros).toBe(400_000n);
  });
});

const CHARGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename
  ... on RecordUsageSuccess { usageRecord { id quantity } balance { available { amount } totalSpent { amount } } } } }`);

describe("SQL statements per charge", () => {
  it("recordUsage on an account without triggers costs the same before, while and after another account has one", async () => {
    const manager = await smsManager();
    const [plain, rollup, watched] = await Promise.all([
      createSubAccount(manager),
      createSubAccount(manager, { rollupBilling: true }),
      createSubAccount(manager),
    ]);
    await topUp(plain.id, "10", manager.token);
    await topUp(watched.id, "10", manager.token);
    const charge = async (token: string, accountId: string) => {
      const counted = await countStatements(() =>
        gqlData(CHARGE, { token, variables: { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("count") } } }),
      );
      expect(counted.result.recordUsage.__typename).toBe("RecordUsageSuccess");
      return counted.statements;
    };
    const measure = async () => {
      const counts: number[] = [];
      for (const account of [plain, rollup]) {
        // Warm up (the first request of a key also writes its lastUsedAt).
        await charge(account.token, account.id);
        await settleKeyUsage();
        counts.push(await charge(account.token, account.id));
      }
      return counts;
    };
    const before = await measure();
    const trigger = await newTrigger(manager.token, { accountId: watched.id, condition: "SPEND_REACHES", threshold: "100" });
    const during = await measure();
    await settleKeyUsage();
    const withTrigger = await charge(watched.token, watched.id).then(() => charge(watched.token, watched.id));
    expect((await deleteTrigger(manager.token, trigger.id)).__typename).toBe("DeleteUsageTriggerSuccess");
    const after = await measure();
    console.log(
      `recordUsage statements: without triggers ${before.join("/")} (own balance/rollup) before, ${during.join("/")} while a sibling has a trigger, ${after.join("/")} after; with a trigger ${withTrigger}`,
    );
    // Authentication and the one charge statement.
    expect(before).toEqual([2, 2]);
    expect(during).toEqual(before);
    expect(after).toEqual(before);
    // The trigger path: the refused statement, the account's reload, then BEGIN, the charge, the check, COMMIT.
    expect(withTrigger).toBeLessThanOrEqual(8);
  });
});

/**
 * Runs `charge` while another connection holds `accountId`'s row lock, and
 * lets that connection (`during`) commit a change once the charge waits for
 * the lock: the charge's statement took its snapshot before the change.
 */
async function chargeWhileLocked<T>(accountId: string, during: (db: pg.Client) => Promise<void>, charge: () => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  try {
    await db.query("BEGIN");
    await db.query(`SELECT 1 FROM "accounts" WHERE "id" = $1::uuid FOR UPDATE`, [dbId(accountId)]);
    const { rows } = await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const pending = charge();
    for (let waited = 0; ; waited += 10) {
      const blocked = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [rows[0]!.pid]);
      if (blocked.rows[0]!.n > 0) break;
      if (waited > 10_000) throw new Error("the charge never waited for the lock");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await during(db);
    await db.query("COMMIT");
    return await pending;
  } finally {
    await db.end();
  }
}

/** A trigger written straight to the database, with its account's flag, inside `db`'s transaction. */
async function insertTrigger(db: pg.Client, accountId: string, threshold: bigint) {
  await db.query(
    `INSERT INTO "usage_triggers" ("id", "accountId", "condition", "thresholdMicros", "period", "action", "periodStart", "periodSpentMicros")
     VALUES (gen_random_uuid(), $1::uuid, $2::"UsageTriggerCondition", $3, 'ALL_TIME', 'NOTIFY', 'epoch', 0)`,
    [dbId(accountId), "BALANCE_FALLS_TO", threshold.toString()],
  );
  await db.query(`UPDATE "accounts" SET "hasUsageTriggers" = true WHERE "id" = $1::uuid`, [dbId(accountId)]);
}

// Two connections racing for one row: Postgres only (PGlite serves one connection).
describe.skipIf(database !== "postgres")("a trigger committed while a charge's statement waits for the row (postgres)", () => {
  it("on the charged account: Postgres re-checks its flag under the lock, and the charge fires the trigger", async () => {
    const manager = await smsManager();
    const sub = await createSubAccount(manager);
    await topUp(sub.id, "1", manager.token);
    const r = await chargeWhileLocked(
      sub.id,
      (db) => insertTrigger(db, sub.id, 995_000n),
      () => recordUsage(sub.token, { accountId: sub.id }).then(result),
    );
    expect(r.__typename).toBe("RecordUsageSuccess");
    expect(await countEvents(sub.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    await expectInvariants([sub.id]);
  });

  it("on the manager whose balance a rollup charge debits: the payer's flag, found under its lock, sends the charge to the trigger path", async () => {
    const manager = await smsManager("1");
    const rollup = await createSubAccount(manager, { rollupBilling: true });
    const r = await chargeWhileLocked(
      manager.id,
      (db) => insertTrigger(db, manager.id, 995_000n),
      () => recordUsage(rollup.token, { accountId: rollup.id }).then(result),
    );
    expect(r.__typename).toBe("RecordUsageSuccess");
    expect(await countEvents(manager.id, "USAGE_TRIGGER_FIRED")).toBe(1);
    expect(await prisma.usageRecord.count({ where: { accountId: dbId(rollup.id) } })).toBe(1);
    await expectInvariants([manager.id, rollup.id]);
  });
});
