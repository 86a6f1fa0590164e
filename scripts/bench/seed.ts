// Bulk seed for `npm run bench`: plain SQL (INSERT ... SELECT generate_series),
// so ~200,000 accounts take seconds. Every API key secret is derived from a
// label (benchSecret), so the bench knows the secrets and stores only their
// SHA-256 hex, exactly as src/auth/secrets.ts does.
import { createHash } from "node:crypto";
import type pg from "pg";
import { API_KEY_PREFIX, API_KEY_PREFIX_LENGTH, hashSecret } from "../../src/auth/secrets.js";

/** The secret of the bench key with this label: agk_ + base64url(sha256("bench-key-" + label)). */
export function benchSecret(label: string): string {
  return API_KEY_PREFIX + createHash("sha256").update(`bench-key-${label}`).digest("base64url");
}

// The same derivation in SQL (43 base64url characters of a 32-byte digest).
const SQL_SECRET = (label: string) =>
  `('${API_KEY_PREFIX}' || rtrim(translate(encode(sha256(convert_to('bench-key-' || ${label}, 'UTF8')), 'base64'), '+/', '-_'), '='))`;

export const SIZES = {
  /** The tree manager's sub-accounts, each with 3 numbers, 2 keys and 3 usage records. */
  treeSubAccounts: 1000,
  /** Rollup sub-accounts of one manager, sharing its balance, for recordUsage under contention. */
  rollupSubAccounts: 32,
  /** 100 managers x 1000 sub-accounts. */
  managers: 100,
  subAccountsPerManager: 1000,
  /** One manager holding this many sub-accounts (subAccountLimit raised), for filters and sorts at scale. */
  megaSubAccounts: 100_000,
} as const;

const USD = 1_000_000n;

/** Trees of these sizes are seeded (the largest one's manager has its subAccountLimit raised). */
export const TREE_SIZES = [100, 1000, 5000] as const;

export interface BenchWorld {
  treeManagerKey: string;
  /** Manager key of the tree of each size. */
  treeKeys: Record<number, string>;
  rollupManagerId: string;
  rollupManagerKey: string;
  /** Global ids (as the API takes them) and keys of the rollup sub-accounts. */
  rollupSubs: { id: string; key: string }[];
  megaManagerKey: string;
  /** Substrings the filter scenarios search for, chosen from the seeded data. */
  search: { emailRare: string; orgCommon: string };
}

/** Empties every table the gateway owns (keeps platform_rates and the migrations table). */
export async function resetTables(db: pg.Client): Promise<void> {
  await db.query(`TRUNCATE "audit_events", "idempotency_keys", "top_ups", "ledger_entries", "usage_records",
    "account_rates", "phone_numbers", "api_keys", "accounts" CASCADE`);
}

export async function seedBench(db: pg.Client): Promise<BenchWorld> {
  await db.query("BEGIN");
  // A temporary helper: one key per account (label given) with a known secret.
  const keySql = (accountFilter: string, labelExpr: string, name = "'bench'") => `
    INSERT INTO "api_keys" ("id", "accountId", "name", "prefix", "secretHash", "createdAt")
    SELECT gen_random_uuid(), a."id", ${name}, left(s.secret, ${API_KEY_PREFIX_LENGTH}), encode(sha256(convert_to(s.secret, 'UTF8')), 'hex'), now()
    FROM "accounts" a CROSS JOIN LATERAL (SELECT ${SQL_SECRET(labelExpr)} AS secret) s
    WHERE ${accountFilter}`;

  // ---- managers: the tree manager, the rollup manager, the mega manager, 100 more.
  await db.query(`
    INSERT INTO "accounts" ("id", "kind", "email", "organizationName", "updatedAt", "subAccountLimit", "balanceMicros", "createdAt")
    VALUES
      (gen_random_uuid(), 'MANAGER', 'tree-manager@bench.example', 'Bench Tree Co', now(), 1000, ${1000n * USD}, now() - interval '400 days'),
      (gen_random_uuid(), 'MANAGER', 'rollup-manager@bench.example', 'Bench Rollup Co', now(), 1000, ${10_000_000n * USD}, now() - interval '400 days'),
      (gen_random_uuid(), 'MANAGER', 'mega-manager@bench.example', 'Bench Mega Co', now(), ${SIZES.megaSubAccounts}, 0, now() - interval '400 days')`);
  await db.query(`
    INSERT INTO "accounts" ("id", "kind", "email", "organizationName", "updatedAt", "createdAt")
    SELECT gen_random_uuid(), 'MANAGER', 'manager-' || m || '@bench.example', 'Bench Manager ' || m, now(), now() - make_interval(days => 300, secs => m)
    FROM generate_series(1, ${SIZES.managers}) m`);
  const ids = Object.fromEntries(
    (
      await db.query<{ email: string; id: string }>(`SELECT "email", "id" FROM "accounts" WHERE "email" IN
      ('tree-manager@bench.example', 'rollup-manager@bench.example', 'mega-manager@bench.example')`)
    ).rows.map((r) => [r.email.split("-")[0], r.id]),
  ) as Record<"tree" | "rollup" | "mega", string>;

  // ---- the trees: sub-accounts with their own balances, 3 numbers, 2 keys and 3 usage records each.
  const trees: Record<number, string> = { [SIZES.treeSubAccounts]: ids.tree };
  for (const [i, size] of TREE_SIZES.entries()) {
    if (!trees[size]) {
      trees[size] = (
        await db.query<{ id: string }>(`
        INSERT INTO "accounts" ("id", "kind", "email", "organizationName", "updatedAt", "subAccountLimit", "balanceMicros", "createdAt")
        VALUES (gen_random_uuid(), 'MANAGER', 'tree${size}-manager@bench.example', 'Bench Tree ${size}', now(), ${Math.max(size, 1000)}, ${1000n * USD}, now() - interval '400 days')
        RETURNING "id"`)
      ).rows[0]!.id;
    }
    const tag = size === SIZES.treeSubAccounts ? "tree" : `tree${size}`;
    await db.query(
      `
      INSERT INTO "accounts" ("id", "kind", "managerId", "email", "organizationName", "updatedAt", "createdAt",
        "creditLimitMicros", "totalSpentMicros", "balanceMicros")
      SELECT gen_random_uuid(), 'SUB_ACCOUNT', $1, '${tag}-sub-' || n || '@customer' || (n % 50) || '.example', 'Tree Customer ' || n,
        now(), now() - make_interval(secs => ${size} - n), ${500n * USD}, 0, ${100n * USD}
      FROM generate_series(1, ${size}) n`,
      [trees[size]],
    );
    const treeSubs = `a."managerId" = '${trees[size]}'`;
    await db.query(`
      INSERT INTO "phone_numbers" ("id", "accountId", "number", "activeNumber", "status", "createdAt")
      SELECT gen_random_uuid(), a."id", x.num, x.num, 'ACTIVE', now() - make_interval(secs => k)
      FROM (SELECT a.*, row_number() OVER (ORDER BY a."email") AS n FROM "accounts" a WHERE ${treeSubs}) a
      CROSS JOIN generate_series(1, 3) k
      CROSS JOIN LATERAL (SELECT '+1${415 + i}' || lpad((a.n * 3 + k)::text, 7, '0') AS num) x`);
    for (const k of [1, 2]) {
      await db.query(keySql(treeSubs, `a."email" || '-${k}'`, `'key ${k}'`));
    }
    await db.query(`
      INSERT INTO "usage_records" ("id", "accountId", "product", "quantity", "unitPriceMicros", "costMicros", "idempotencyKey", "occurredAt")
      SELECT gen_random_uuid(), a."id", (ARRAY['SMS_OUTBOUND', 'VOICE_OUTBOUND_MINUTE', 'SMS_INBOUND']::"Product"[])[k],
        10 * k, p.price, 10 * k * p.price, 'seed-' || k, now() - make_interval(days => k * 3)
      FROM "accounts" a CROSS JOIN generate_series(1, 3) k
      CROSS JOIN LATERAL (SELECT (ARRAY[7900, 14000, 5000])[k]::bigint AS price) p
      WHERE ${treeSubs}`);
  }
  // TOP_UP entries for every seeded balance, then the CHARGE entries (balanceAfter is not re-derived for seed rows).
  await db.query(`
    INSERT INTO "ledger_entries" ("id", "balanceAccountId", "causedByAccountId", "kind", "amountMicros", "balanceAfterMicros", "createdAt")
    SELECT gen_random_uuid(), a."id", a."id", 'TOP_UP', a."balanceMicros", a."balanceMicros", now() - interval '30 days'
    FROM "accounts" a WHERE a."balanceMicros" > 0`);
  await db.query(`
    INSERT INTO "ledger_entries" ("id", "balanceAccountId", "causedByAccountId", "kind", "amountMicros", "balanceAfterMicros", "usageRecordId", "createdAt")
    SELECT gen_random_uuid(), u."accountId", u."accountId", 'CHARGE', -u."costMicros", 0, u."id", u."occurredAt"
    FROM "usage_records" u`);
  await db.query(`
    UPDATE "accounts" a SET "totalSpentMicros" = s.total, "balanceMicros" = a."balanceMicros" - s.total
    FROM (SELECT "accountId", SUM("costMicros") AS total FROM "usage_records" GROUP BY 1) s WHERE s."accountId" = a."id"`);

  // ---- rollup: 32 sub-accounts charging the rollup manager's balance, one key each.
  await db.query(
    `
    INSERT INTO "accounts" ("id", "kind", "managerId", "email", "organizationName", "updatedAt", "createdAt", "rollupBilling")
    SELECT gen_random_uuid(), 'SUB_ACCOUNT', $1, 'rollup-sub-' || n || '@bench.example', 'Rollup Customer ' || n, now(),
      now() - make_interval(secs => n), true
    FROM generate_series(1, ${SIZES.rollupSubAccounts}) n`,
    [ids.rollup],
  );
  await db.query(keySql(`a."managerId" = '${ids.rollup}'`, `a."email"`));

  // ---- 100 managers x 1000 sub-accounts, and the mega manager's 100,000.
  await db.query(`
    INSERT INTO "accounts" ("id", "kind", "managerId", "email", "organizationName", "updatedAt", "createdAt")
    SELECT gen_random_uuid(), 'SUB_ACCOUNT', m."id", 'm' || m.n || '-sub-' || s || '@client' || (s % 200) || '.example',
      'Client ' || substr(md5('org' || m.n || '-' || s), 1, 10), now(), now() - make_interval(secs => s)
    FROM (SELECT "id", row_number() OVER (ORDER BY "email") AS n FROM "accounts" WHERE "email" LIKE 'manager-%@bench.example') m
    CROSS JOIN generate_series(1, ${SIZES.subAccountsPerManager}) s`);
  await db.query(
    `
    INSERT INTO "accounts" ("id", "kind", "managerId", "email", "organizationName", "updatedAt", "createdAt", "status")
    SELECT gen_random_uuid(), 'SUB_ACCOUNT', $1, 'u' || n || '.' || substr(md5('mail' || n), 1, 8) || '@client' || (n % 500) || '.example',
      'Client ' || substr(md5('org' || n), 1, 10), now(), now() - make_interval(secs => n),
      (CASE WHEN n % 100 = 0 THEN 'CLOSED' WHEN n % 50 = 0 THEN 'SUSPENDED' ELSE 'ACTIVE' END)::"AccountStatus"
    FROM generate_series(1, ${SIZES.megaSubAccounts}) n`,
    [ids.mega],
  );

  // ---- the managers' own keys.
  await db.query(keySql(`a."kind" = 'MANAGER'`, `a."email"`));
  await db.query("COMMIT");
  await db.query("ANALYZE");

  const rollupSubs = (
    await db.query<{ id: string; email: string }>(`SELECT "id", "email" FROM "accounts" WHERE "managerId" = $1 ORDER BY "email"`, [ids.rollup])
  ).rows.map((r) => ({ id: Buffer.from(`SubAccount:${r.id}`).toString("base64"), key: benchSecret(r.email) }));
  // Sanity: the SQL derivation of secrets matches benchSecret().
  const check = benchSecret("tree-manager@bench.example");
  const found = await db.query(`SELECT 1 FROM "api_keys" WHERE "secretHash" = $1`, [hashSecret(check)]);
  if (found.rowCount !== 1) throw new Error("seed: the SQL secret derivation does not match benchSecret()");

  return {
    treeManagerKey: check,
    treeKeys: Object.fromEntries(
      TREE_SIZES.map((size) => [size, benchSecret(size === SIZES.treeSubAccounts ? "tree-manager@bench.example" : `tree${size}-manager@bench.example`)]),
    ),
    rollupManagerId: ids.rollup,
    rollupManagerKey: benchSecret("rollup-manager@bench.example"),
    rollupSubs,
    megaManagerKey: benchSecret("mega-manager@bench.example"),
    // md5('mail' || 77777) starts the email of exactly one mega sub-account; "f00" is in ~0.2% of org names.
    search: { emailRare: createHash("md5").update("mail77777").digest("hex").slice(0, 8), orgCommon: "f00" },
  };
}
