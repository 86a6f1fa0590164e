// The `reports` scenario's data (npm run bench -- --only reports): one
// manager with 1,000 sub-accounts, each with usage of all 6 products on every
// day of one 31-day month (186,000 usage records, one per account, product
// and day, so the tree's DAY report has 186,000 lines), each with its CHARGE
// ledger entry, so the invariants the `usage` scenario checks still hold.
// Bulk SQL (INSERT ... SELECT generate_series), as seed.ts does.
import type pg from "pg";
import { API_KEY_PREFIX_LENGTH, hashSecret } from "../../src/auth/secrets.js";
import { benchSecret } from "./seed.js";

export const REPORT_SIZES = { subAccounts: 1000, products: 6, days: 31 } as const;

const MANAGER_EMAIL = "reports-manager@bench.example";
const USD = 1_000_000n;

export interface ReportsWorld {
  managerKey: string;
  /** A sub-account's key, for its own report (no costs). */
  subKey: string;
  /** The seeded month, [from, to): 31 UTC days. */
  from: string;
  to: string;
  /** Usage records seeded (= lines of the tree's DAY report). */
  records: number;
}

/** The latest 31-day UTC month that has ended. */
function lastLongMonth(now = new Date()): { from: Date; to: Date } {
  for (let back = 1; ; back++) {
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back));
    const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back + 1));
    if (to.getTime() - from.getTime() === 31 * 86_400_000) return { from, to };
  }
}

export async function seedReports(db: pg.Client): Promise<ReportsWorld> {
  const { from, to } = lastLongMonth();
  await db.query("BEGIN");
  const managerId = (
    await db.query<{ id: string }>(
      `INSERT INTO "accounts" ("id", "kind", "email", "organizationName", "updatedAt", "subAccountLimit", "balanceMicros", "createdAt")
       VALUES (gen_random_uuid(), 'MANAGER', $1, 'Bench Reports Co', now(), ${REPORT_SIZES.subAccounts}, ${1_000_000n * USD}, now() - interval '400 days')
       RETURNING "id"`,
      [MANAGER_EMAIL],
    )
  ).rows[0]!.id;
  await db.query(
    `INSERT INTO "accounts" ("id", "kind", "managerId", "email", "organizationName", "updatedAt", "createdAt", "balanceMicros")
     SELECT gen_random_uuid(), 'SUB_ACCOUNT', $1, 'report-sub-' || n || '@customer' || (n % 50) || '.example', 'Report Customer ' || n,
       now(), now() - interval '400 days' + make_interval(secs => n), ${10_000n * USD}
     FROM generate_series(1, ${REPORT_SIZES.subAccounts}) n`,
    [managerId],
  );
  const subEmail = "report-sub-1@customer1.example";
  for (const email of [MANAGER_EMAIL, subEmail]) {
    const secret = benchSecret(email);
    await db.query(
      `INSERT INTO "api_keys" ("id", "accountId", "name", "prefix", "secretHash", "createdAt")
       SELECT gen_random_uuid(), a."id", 'bench', $2, $3, now() FROM "accounts" a WHERE a."email" = $1`,
      [email, secret.slice(0, API_KEY_PREFIX_LENGTH), hashSecret(secret)],
    );
  }
  // In time order (day by day), as usage arrives; each account's record of a product at its own second of the day.
  const inserted = await db.query(
    `INSERT INTO "usage_records" ("id", "accountId", "product", "quantity", "unitPriceMicros", "costMicros", "idempotencyKey", "occurredAt", "createdAt")
     SELECT gen_random_uuid(), a."id", p.product, q.quantity, p.price, q.quantity * p.price,
       'report-' || a.n || '-' || p.k || '-' || d, $2::timestamptz + make_interval(days => d, secs => (a.n * 61 + p.k * 3607) % 86400),
       $2::timestamptz + make_interval(days => d, secs => (a.n * 61 + p.k * 3607) % 86400)
     FROM generate_series(0, ${REPORT_SIZES.days - 1}) d
     CROSS JOIN (SELECT "id", row_number() OVER (ORDER BY "createdAt") AS n FROM "accounts" WHERE "managerId" = $1) a
     CROSS JOIN (SELECT k, (ARRAY['SMS_OUTBOUND', 'SMS_INBOUND', 'MMS_OUTBOUND', 'VOICE_OUTBOUND_MINUTE', 'VOICE_INBOUND_MINUTE', 'PHONE_NUMBER_MONTHLY']::"Product"[])[k] AS product,
                   (ARRAY[7900, 500, 21300, 14000, 8500, 1150000])[k]::bigint AS price FROM generate_series(1, 6) k) p
     CROSS JOIN LATERAL (SELECT (1 + (a.n * 7 + p.k * 13 + d * 5) % 97)::int AS quantity) q
     ORDER BY d, a.n, p.k`,
    [managerId, from],
  );
  await db.query(
    `INSERT INTO "ledger_entries" ("id", "balanceAccountId", "causedByAccountId", "kind", "amountMicros", "balanceAfterMicros", "createdAt")
     SELECT gen_random_uuid(), a."id", a."id", 'TOP_UP', a."balanceMicros", a."balanceMicros", now() - interval '400 days'
     FROM "accounts" a WHERE a."id" = $1 OR a."managerId" = $1`,
    [managerId],
  );
  await db.query(
    `INSERT INTO "ledger_entries" ("id", "balanceAccountId", "causedByAccountId", "kind", "amountMicros", "balanceAfterMicros", "usageRecordId", "createdAt")
     SELECT gen_random_uuid(), u."accountId", u."accountId", 'CHARGE', -u."costMicros", 0, u."id", u."occurredAt"
     FROM "usage_records" u JOIN "accounts" a ON a."id" = u."accountId" WHERE a."managerId" = $1`,
    [managerId],
  );
  await db.query(
    `UPDATE "accounts" a SET "totalSpentMicros" = s.total, "balanceMicros" = a."balanceMicros" - s.total
     FROM (SELECT u."accountId", SUM(u."costMicros") AS total FROM "usage_records" u JOIN "accounts" t ON t."id" = u."accountId"
           WHERE t."managerId" = $1 GROUP BY 1) s
     WHERE s."accountId" = a."id"`,
    [managerId],
  );
  await db.query("COMMIT");
  return {
    managerKey: benchSecret(MANAGER_EMAIL),
    subKey: benchSecret(subEmail),
    from: from.toISOString(),
    to: to.toISOString(),
    records: inserted.rowCount ?? 0,
  };
}
