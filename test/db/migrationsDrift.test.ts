// prisma/schema.prisma and prisma/migrations must describe the same database:
// the client is generated from the one, production runs the other. This file
// applies the migrations to an empty database with the gateway's own migrator
// (src/db/migrate.ts, what every start runs) and has Prisma's schema engine
// diff that database against the datamodel.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/db/embedded.js";
import { applyMigrations } from "../../src/db/migrate.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SCHEMA = path.join(root, "prisma", "schema.prisma");
const PRISMA = path.join(root, "node_modules", ".bin", "prisma");

/**
 * The statements the diff may hold, and must: each is a difference Prisma's
 * schema does not express. Listing exactly these (not "at least") makes a
 * stale allowance fail too, once the schema starts expressing it.
 */
const ALLOWED_DIFF = [
  // Migration 0003's covering indexes: the schema's @@index has their keys,
  // but Prisma cannot express INCLUDE columns, so the engine would rebuild
  // them without. HAND_WRITTEN_INDEXES pins what the migrations really build,
  // since this allowance only shows the schema's side.
  `DROP INDEX "accounts_managerId_createdAt_id_idx";`,
  `DROP INDEX "phone_numbers_accountId_createdAt_id_idx";`,
  `CREATE INDEX "accounts_managerId_createdAt_id_idx" ON "accounts"("managerId", "createdAt" DESC, "id" DESC);`,
  `CREATE INDEX "phone_numbers_accountId_createdAt_id_idx" ON "phone_numbers"("accountId", "createdAt" DESC, "id" DESC);`,
  // Migration 0008: the usage reports' covering index, the same case.
  `DROP INDEX "usage_records_accountId_occurredAt_id_idx";`,
  `CREATE INDEX "usage_records_accountId_occurredAt_id_idx" ON "usage_records"("accountId", "occurredAt" DESC, "id" DESC);`,
];

/**
 * Indexes Prisma's schema cannot describe, or does not, as the migrations
 * build them (pg_get_indexdef). The partial and expression unique indexes
 * never show in the diff at all (the engine skips such indexes), so only
 * this list says they exist.
 */
const HAND_WRITTEN_INDEXES = {
  // 0002: GIN trigram indexes (in schema.prisma too; pinned here with their operator class).
  accounts_email_trgm_idx: "CREATE INDEX accounts_email_trgm_idx ON public.accounts USING gin (email gin_trgm_ops)",
  accounts_organizationName_trgm_idx: `CREATE INDEX "accounts_organizationName_trgm_idx" ON public.accounts USING gin ("organizationName" gin_trgm_ops)`,
  // 0003: covering indexes, INCLUDE (ALLOWED_DIFF).
  accounts_managerId_createdAt_id_idx: `CREATE INDEX "accounts_managerId_createdAt_id_idx" ON public.accounts USING btree ("managerId", "createdAt" DESC, id DESC) INCLUDE (status)`,
  phone_numbers_accountId_createdAt_id_idx: `CREATE INDEX "phone_numbers_accountId_createdAt_id_idx" ON public.phone_numbers USING btree ("accountId", "createdAt" DESC, id DESC) INCLUDE (status, number)`,
  // 0008: the usage reports read product, quantity and cost from the index (ALLOWED_DIFF).
  usage_records_accountId_occurredAt_id_idx: `CREATE INDEX "usage_records_accountId_occurredAt_id_idx" ON public.usage_records USING btree ("accountId", "occurredAt" DESC, id DESC) INCLUDE (product, quantity, "costMicros")`,
  // 0004: emails unique among managers (partial) and within a tree (on an
  // expression); schema.prisma's Account.email says why it has no @unique.
  accounts_manager_email_key: `CREATE UNIQUE INDEX accounts_manager_email_key ON public.accounts USING btree (email) WHERE (kind = 'MANAGER'::"AccountKind")`,
  accounts_tree_email_key: `CREATE UNIQUE INDEX accounts_tree_email_key ON public.accounts USING btree (COALESCE("managerId", id), email)`,
};

/** 0001's CHECK constraints: Prisma's schema has no CHECK, and its diff ignores them. */
const HAND_WRITTEN_CHECKS = {
  account_rates_price_not_negative: `CHECK (("unitPriceMicros" >= 0))`,
  accounts_balance_not_negative: `CHECK (("balanceMicros" >= 0))`,
  accounts_email_lowercase: "CHECK ((email = lower(email)))",
  accounts_sub_account_limit_not_negative: `CHECK (("subAccountLimit" >= 0))`,
  accounts_total_spent_not_negative: `CHECK (("totalSpentMicros" >= 0))`,
  accounts_total_spent_within_credit_limit: `CHECK ((("creditLimitMicros" IS NULL) OR ("totalSpentMicros" <= "creditLimitMicros")))`,
  accounts_tree_shape: `CHECK (((kind = 'MANAGER'::"AccountKind") = ("managerId" IS NULL)))`,
  phone_numbers_active_number_matches: `CHECK ((((status = 'ACTIVE'::"PhoneNumberStatus") AND ("activeNumber" = number)) OR ((status = 'RELEASED'::"PhoneNumberStatus") AND ("activeNumber" IS NULL))))`,
  platform_rates_price_not_negative: `CHECK (("unitPriceMicros" >= 0))`,
  usage_records_cost_not_negative: `CHECK (("costMicros" >= 0))`,
  usage_records_quantity_positive: "CHECK ((quantity > 0))",
};

/** 0002's pg_trgm; the diff ignores extensions (the schema has no postgresqlExtensions preview feature). */
const HAND_WRITTEN_EXTENSIONS = ["pg_trgm"];

// The CLI refuses --from-url while prisma.config.ts defines an adapter, and
// without one it needs a native schema engine this project never downloads.
// So the diff runs on the Wasm engine through this config's adapter, as
// `--from-migrations` of an empty folder with the migrated database as the
// shadow database: with nothing to apply, the engine describes that database
// as it is, the description --from-url would give.
// adapter-pg 6.19 rejects the catalog's "name" and "char" columns the engine
// reads (prisma/orm#27403, the same bug src/db/migrate.ts works around), so
// they are passed on as text and as a character.
// allowExitOnIdle: the CLI never disposes one of its adapters, and its idle
// connection would hold the process open for pg's 10 s idle timeout.
const CLI_CONFIG = `
import { createRequire } from "node:module";
const { PrismaPg } = createRequire(${JSON.stringify(path.join(root, "package.json"))})("@prisma/adapter-pg");
// pg type ids, and the driver adapter's ColumnType for a character.
const NAME = 19, CHAR = 18, TEXT = 25, COLUMN_CHARACTER = 6;
async function connect() {
  const adapter = await new PrismaPg({ connectionString: process.env.DRIFT_DATABASE_URL, allowExitOnIdle: true }).connect();
  const performIO = adapter.performIO.bind(adapter);
  const queryRaw = adapter.queryRaw.bind(adapter);
  const charColumns = new WeakMap();
  adapter.performIO = async (query) => {
    const result = await performIO(query);
    const chars = [];
    result.fields.forEach((field, i) => {
      if (field.dataTypeID === CHAR) chars.push(i);
      if (field.dataTypeID === NAME || field.dataTypeID === CHAR) field.dataTypeID = TEXT;
    });
    charColumns.set(result.rows, chars);
    return result;
  };
  adapter.queryRaw = async (query) => {
    const set = await queryRaw(query);
    for (const i of charColumns.get(set.rows) ?? []) set.columnTypes[i] = COLUMN_CHARACTER;
    return set;
  };
  return adapter;
}
export default {
  engine: "js",
  experimental: { adapter: true },
  adapter: async () => ({ provider: "postgres", adapterName: "@prisma/adapter-pg", connect, connectToShadowDb: connect }),
};
`;

interface EmptyDatabase {
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(connectionString: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A database with nothing in it: a fresh in-memory PGlite, or a new database on TEST_DATABASE_URL's server. */
async function emptyDatabase(): Promise<EmptyDatabase> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) {
    const embedded = await startEmbeddedPostgres();
    return { url: embedded.connectionString, drop: () => embedded.stop() };
  }
  // The suite's own database already holds the migrations and test data.
  const name = `drift_${randomBytes(6).toString("hex")}`;
  await withClient(server, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** The statements of a `migrate diff --script` output, without its comments ("-- CreateIndex", or "-- This is an empty migration."). */
function statements(script: string): string[] {
  return script
    .split(/^--.*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean);
}

describe("prisma/migrations against prisma/schema.prisma", () => {
  let database: EmptyDatabase | undefined;
  let workDir: string;
  let diffs: { current: Promise<string>; drifted: Promise<string> } | undefined;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), "migrations-drift-"));
    writeFileSync(path.join(workDir, "prisma.config.mjs"), CLI_CONFIG);
    mkdirSync(path.join(workDir, "no-migrations"));
    // The engine reads the provider from the lock file (prisma/migrations has none: src/db/migrate.ts needs none).
    writeFileSync(path.join(workDir, "no-migrations", "migration_lock.toml"), `provider = "postgresql"\n`);
    // The datamodel with a column the migrations lack, to show the check fails on drift.
    writeFileSync(path.join(workDir, "drifted.prisma"), readFileSync(SCHEMA, "utf8").replace(/^(model Account \{\n)/m, "$1  driftProbe String?\n"));
    database = await emptyDatabase();
    await applyMigrations(database.url);
    // Both at once: a CLI run spends most of its seconds starting the engine.
    diffs = { current: migrateDiff(SCHEMA), drifted: migrateDiff(path.join(workDir, "drifted.prisma")) };
    // The tests await them; until then a failure must not count as unhandled.
    for (const diff of Object.values(diffs)) diff.catch(() => {});
  });

  afterAll(async () => {
    if (diffs) await Promise.allSettled(Object.values(diffs));
    await database?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** `prisma migrate diff` from the migrated database to the datamodel in `schemaPath`, as SQL. */
  async function migrateDiff(schemaPath: string): Promise<string> {
    const url = database!.url;
    const args = ["migrate", "diff", "--config", path.join(workDir, "prisma.config.mjs"), "--script"];
    args.push("--from-migrations", path.join(workDir, "no-migrations"), "--to-schema-datamodel", schemaPath);
    try {
      // DATABASE_URL: the CLI reads the schema's env("DATABASE_URL") while
      // parsing it, and without a value tries to download a query engine.
      const { stdout } = await promisify(execFile)(PRISMA, args, { cwd: root, env: { ...process.env, DATABASE_URL: url, DRIFT_DATABASE_URL: url } });
      return stdout;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`prisma migrate diff failed: ${stderr || message}`);
    }
  }

  it("the migrated database differs from the datamodel only where Prisma's schema cannot (or does not) say what the migrations build", async () => {
    const script = await diffs!.current;
    const found = statements(script);
    const unexpected = found.filter((statement) => !ALLOWED_DIFF.includes(statement));
    const stale = ALLOWED_DIFF.filter((statement) => !found.includes(statement));
    expect(
      { unexpected, stale },
      `The migrations and prisma/schema.prisma disagree. Add a migration (or fix the schema) so that this diff, from the migrated database to the datamodel, holds only ALLOWED_DIFF:\n${script}`,
    ).toEqual({ unexpected: [], stale: [] });
  });

  it("the migrations build the hand-written objects the diff cannot see, exactly as listed", async () => {
    const objects = await withClient(database!.url, async (client) => {
      // Partial, expression, INCLUDE and non-btree indexes: what Prisma's
      // schema cannot describe (or, for GIN, does not here).
      const indexes = await client.query<{ name: string; definition: string }>(`
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam
        WHERE n.nspname = 'public' AND (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL OR i.indnkeyatts < i.indnatts OR am.amname <> 'btree')`);
      const checks = await client.query<{ name: string; definition: string }>(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace`,
      );
      // plpgsql comes with every database.
      const extensions = await client.query<{ name: string }>(`SELECT extname AS name FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`);
      return {
        indexes: Object.fromEntries(indexes.rows.map((row) => [row.name, row.definition])),
        checks: Object.fromEntries(checks.rows.map((row) => [row.name, row.definition])),
        extensions: extensions.rows.map((row) => row.name),
      };
    });
    expect(objects).toEqual({ indexes: HAND_WRITTEN_INDEXES, checks: HAND_WRITTEN_CHECKS, extensions: HAND_WRITTEN_EXTENSIONS });
  });

  it("fails on drift: a column only the datamodel has shows in the diff", async () => {
    const found = statements(await diffs!.drifted);
    expect(found.filter((statement) => !ALLOWED_DIFF.includes(statement))).toContain(`ALTER TABLE "accounts" ADD COLUMN     "driftProbe" TEXT;`);
  });
});
