// `npm run bench:select-mode` (issue 14): Pothos' Prisma `select` mode side by
// side with the gateway's read path, on the bench's peer shape (a manager's
// first 250 sub-accounts, each with its phone numbers).
//
//   npx tsx scripts/bench/selectMode.ts [--duration 10] [--rounds 2]
//
// It creates a throwaway database bench_select_<random> on the Postgres at
// BENCH_PG (default postgresql://postgres@127.0.0.1:5432), applies the
// migrations, seeds it with the bench's own seed (scripts/bench/seed.ts),
// then starts two servers on 127.0.0.1 over that one database:
//   - the gateway, as `npm start` runs it (src/server.ts, production mode);
//   - a minimal Pothos schema built HERE over the same generated Prisma
//     client, resolving the tree the way the Prisma plugin recommends:
//     prismaNode with `select`, t.relatedConnection for both lists, so the
//     whole tree is one Prisma query planned from the GraphQL selection.
// Both get the same worker count (WEB_CONCURRENCY, default 2, as in
// docs/benchmarks.md), the same pool settings (src/db/client.ts) and the same
// authentication (src/auth/authenticate.ts), so what differs is the read path.
// The two are loaded alternately (autocannon in its own process,
// scripts/bench/load.ts), round after round, after checking that both answer
// the same JSON. The database is dropped at the end.
//
// Run with `--serve PORT` it is the select-mode server itself (the child).
import { execFileSync, spawn } from "node:child_process";
import cluster from "node:cluster";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import SchemaBuilder from "@pothos/core";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import pg from "pg";
import type PrismaTypes from "../../src/generated/pothos-types.js";
import type { LoadResult, LoadSpec } from "./load.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OPERATOR_TOKEN = "op_bench_operator_token_0123456789abcdef";
const WORKERS = Number(process.env.WEB_CONCURRENCY ?? 2);

// The bench's peer shape, verbatim (scripts/bench/index.ts, Q_PEER250).
const Q_PEER250 = "{ viewer { account { ... on Manager { subAccounts(first: 250) { totalCount nodes { id email phoneNumbers { nodes { number } } } } } } } }";

// ------------------------------------------------------------ the select-mode schema

/** What a request knows of its caller: the manager the API key belongs to. */
interface SelectContext {
  accountId: string;
}

/**
 * The peer shape's fields, and only those, the way the Pothos Prisma plugin
 * documents them: every type in select mode (`select` on the type, exposed
 * columns and relations added to the selection only when a query asks for
 * them), lists as `t.relatedConnection`. The arguments, defaults, filters and
 * orders mirror the gateway's (src/read/lists.ts): sub-accounts without the
 * CLOSED ones, numbers ACTIVE only, both newest first, pages of 20 by default
 * and 250 at most, totalCount counting what the filter keeps.
 *
 * Imports are dynamic: src/db/client.ts reads DATABASE_URL when it loads.
 */
async function buildSelectModeYoga(): Promise<YogaServerInstance<Record<string, unknown>, SelectContext>> {
  const { prisma } = await import("../../src/db/client.js");
  const { getDatamodel } = await import("../../src/generated/pothos-types.js");
  const { authenticate } = await import("../../src/auth/authenticate.js");

  // No scope-auth: the peer shape is read by a manager, and both servers
  // authenticate the key the same way (in the context factory below).
  const builder = new SchemaBuilder<{ Context: SelectContext; PrismaTypes: PrismaTypes; DefaultFieldNullability: false }>({
    plugins: [PrismaPlugin, RelayPlugin],
    defaultFieldNullability: false,
    prisma: { client: prisma, dmmf: getDatamodel(), filterConnectionTotalCount: true, maxConnectionSize: 250, defaultConnectionSize: 20 },
    // `nodes` beside `edges`, as the gateway has it (the peer shape reads nodes).
    relay: { clientMutationId: "omit", cursorType: "String", nodesOnConnection: true },
    // Not a plugin of this builder: scope-auth's global types (imported by
    // src/schema/builder.ts in the same program) make this option required
    // for every builder; without ScopeAuthPlugin in `plugins` it is unused.
    scopeAuth: { authScopes: () => ({}) },
  });

  const newestFirst = [{ createdAt: "desc" as const }, { id: "desc" as const }];

  const PhoneNumberRef = builder.prismaObject("PhoneNumber", {
    select: { id: true },
    fields: (t) => ({ number: t.exposeString("number") }),
  });

  // Global ids as the gateway's: base64("SubAccount:<uuid>") (relay plugin encoding).
  const SubAccountRef = builder.prismaNode("Account", {
    variant: "SubAccount",
    id: { field: "id" },
    select: { id: true },
    fields: (t) => ({
      email: t.exposeString("email"),
      phoneNumbers: t.relatedConnection("phoneNumbers", {
        type: PhoneNumberRef,
        cursor: "id",
        query: { where: { status: "ACTIVE" }, orderBy: newestFirst },
      }),
    }),
  });

  const ManagerRef = builder.prismaNode("Account", {
    variant: "Manager",
    id: { field: "id" },
    select: { id: true },
    fields: (t) => ({
      subAccounts: t.relatedConnection("subAccounts", {
        type: SubAccountRef,
        cursor: "id",
        totalCount: true,
        query: { where: { status: { not: "CLOSED" } }, orderBy: newestFirst },
      }),
    }),
  });

  const ViewerRef = builder.objectRef<SelectContext>("Viewer").implement({
    fields: (t) => ({
      // The root of the tree: one Prisma query with everything below it
      // selected (the plugin merges the nested relatedConnections into `query`).
      account: t.prismaField({
        type: ManagerRef,
        resolve: (query, viewer) => prisma.account.findUniqueOrThrow({ ...query, where: { id: viewer.accountId } }),
      }),
    }),
  });
  builder.queryType({ fields: (t) => ({ viewer: t.field({ type: ViewerRef, resolve: (_root, _args, ctx) => ctx }) }) });

  return createYoga<Record<string, unknown>, SelectContext>({
    schema: builder.toSchema(),
    graphiql: false,
    logging: false,
    // The gateway's authentication: one statement (the key with its account's row).
    context: async ({ request }) => {
      const { viewer } = await authenticate(request.headers.get("authorization"), OPERATOR_TOKEN);
      if (viewer.role !== "MANAGER") throw new Error("the select-mode schema serves managers only");
      return { accountId: viewer.accountId };
    },
  });
}

// ------------------------------------------------------------ child: the select-mode server
const { values: opts } = parseArgs({
  options: {
    serve: { type: "string" },
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "2" },
  },
});

if (opts.serve) {
  // Workers like the gateway's (src/server.ts): node:cluster, one port.
  if (cluster.isPrimary && WORKERS > 1) {
    for (let i = 0; i < WORKERS; i++) cluster.fork();
    process.on("SIGTERM", () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
      process.exit(0);
    });
  } else {
    const yoga = await buildSelectModeYoga();
    createServer(yoga).listen(Number(opts.serve), "127.0.0.1");
    // A cluster worker's primary may be gone already (it exits on SIGTERM):
    // closing through it would fail with EPIPE, and nothing is in flight.
    process.on("SIGTERM", () => process.exit(0));
  }
} else {
  await orchestrate();
}

// ------------------------------------------------------------ parent: seed, serve, compare, load
async function orchestrate(): Promise<void> {
  const duration = Number(opts.duration);
  const rounds = Number(opts.rounds);
  const note = (m: string) => console.error(`[select-mode] ${m}`);
  const work = mkdtempSync(path.join(tmpdir(), "select-mode-bench-"));
  const base = process.env.BENCH_PG ?? "postgresql://postgres@127.0.0.1:5432";
  const dbName = `bench_select_${randomBytes(4).toString("hex")}`;
  const databaseUrl = `${base}/${dbName}`;
  const psql = (sql: string) => execFileSync("psql", [`${base}/postgres`, "-qc", sql], { stdio: "inherit" });

  note(`creating ${dbName}`);
  psql(`create database ${dbName}`);
  const children: ReturnType<typeof spawn>[] = [];
  process.on("exit", () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });
  try {
    // The bench's own helpers: migrations as the server applies them, and its seed.
    const { applyMigrations } = await import("../../src/db/migrate.js");
    const { seedBench } = await import("./seed.js");
    await applyMigrations(databaseUrl);
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    note("seeding (scripts/bench/seed.ts)");
    const world = await seedBench(db);
    await db.query("VACUUM ANALYZE");
    await db.end();
    const token = world.treeManagerKey;

    // Both servers: same database, same worker count, production mode.
    const env = {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      WEB_CONCURRENCY: String(WORKERS),
      HOST: "127.0.0.1",
      DATA_DIR: path.join(work, "data"),
      OPERATOR_TOKEN,
      RATE_LIMIT_PER_KEY: "1000000000",
      RATE_LIMIT_PER_ADDRESS: "1000000000",
      LOG_LEVEL: "warn",
      METRICS_PORT: "0",
    };
    const nodeArgs = ["--max-semi-space-size=64", "--import", "tsx"];
    const gatewayPort = Number(process.env.BENCH_PORT ?? 4620);
    const selectPort = gatewayPort + 1;
    const start = (args: string[], port: number) => {
      const child = spawn(process.execPath, [...nodeArgs, ...args], {
        cwd: ROOT,
        env: { ...env, PORT: String(port) },
        stdio: ["ignore", "inherit", "inherit"],
      });
      children.push(child);
    };
    start(["src/server.ts"], gatewayPort);
    start(["scripts/bench/selectMode.ts", "--serve", String(selectPort)], selectPort);
    const systems = [
      { name: "gateway (reads plugin + SQL lists)", url: `http://127.0.0.1:${gatewayPort}/graphql` },
      { name: "Pothos select mode (relatedConnection)", url: `http://127.0.0.1:${selectPort}/graphql` },
    ];

    const post = async (url: string) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: Q_PEER250 }),
      });
      return { status: response.status, text: await response.text() };
    };
    // Both up (the select server has no /health: a first answer will do).
    for (const s of systems) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const answer = await post(s.url).catch(() => undefined);
        if (answer?.status === 200) break;
        if (Date.now() > deadline) throw new Error(`${s.name} did not answer in 60 s: ${answer?.text}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    // Same data before timing: the whole answer, byte for byte.
    const answers = await Promise.all(systems.map((s) => post(s.url)));
    const parsed = answers.map((a) => JSON.parse(a.text) as { data?: PeerData; errors?: unknown });
    for (const [i, p] of parsed.entries()) if (p.errors || !p.data) throw new Error(`${systems[i]!.name}: ${JSON.stringify(p.errors)}`);
    const [ours, theirs] = parsed.map((p) => p.data!.viewer.account.subAccounts);
    const numbers = (c: PeerConnection) => c.nodes.reduce((n, s) => n + s.phoneNumbers.nodes.length, 0);
    const same = answers[0]!.text === answers[1]!.text;
    note(
      `answers: totalCount ${ours!.totalCount} / ${theirs!.totalCount}, nodes ${ours!.nodes.length} / ${theirs!.nodes.length}, numbers ${numbers(ours!)} / ${numbers(theirs!)}, identical JSON: ${same}`,
    );
    if (!same) throw new Error("the two servers answer differently: not timing them");

    // SQL statements per request, in this process (as scripts/bench/count.ts):
    // both apps over src/db/client.ts's counted pool, one request after a warm-up.
    process.env.DATABASE_URL = databaseUrl;
    const { statementCounter, disconnectDatabase } = await import("../../src/db/client.js");
    const { createApp } = await import("../../src/yoga.js");
    const inProcess = [
      createApp({ operatorToken: OPERATOR_TOKEN, production: true, rateLimits: { perKey: 1e9, perAddress: 1e9, windowSeconds: 60 } }),
      await buildSelectModeYoga(),
    ];
    const statements: number[] = [];
    for (const app of inProcess) {
      const once = () =>
        app.fetch("http://bench.local/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: Q_PEER250 }),
        });
      await (await once()).text();
      await new Promise((r) => setTimeout(r, 50)); // the warm-up's lastUsedAt write, if any
      const before = statementCounter.count;
      await (await once()).text();
      statements.push(statementCounter.count - before);
    }
    await disconnectDatabase();
    note(`SQL statements per request: gateway ${statements[0]}, select mode ${statements[1]}`);

    // One client, one request at a time: latency without queueing (median of 15 after 5 warm-ups).
    const serialMs: number[] = [];
    for (const s of systems) {
      for (let i = 0; i < 5; i++) await post(s.url);
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        await post(s.url);
        times.push(performance.now() - t0);
      }
      serialMs.push(times.sort((a, b) => a - b)[7]!);
    }
    note(`1 client, median of 15: gateway ${serialMs[0]!.toFixed(1)} ms, select mode ${serialMs[1]!.toFixed(1)} ms`);

    // Alternating load: gateway, select, gateway, select, ... each warmed 3 s with the same query first.
    const load = (spec: LoadSpec) =>
      new Promise<LoadResult>((resolve, reject) => {
        const file = path.join(work, `load-${randomBytes(4).toString("hex")}.json`);
        writeFileSync(file, JSON.stringify(spec));
        const child = spawn(process.execPath, ["--import", "tsx", "scripts/bench/load.ts", file], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (c) => (out += c));
        child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!) as LoadResult) : reject(new Error(`load exited ${code}`))));
      });
    const rows: { round: number; system: string; result: LoadResult; statements: number }[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const [i, s] of systems.entries()) {
        const bodies = [{ token, body: JSON.stringify({ query: Q_PEER250 }) }];
        note(`round ${round}: ${s.name}`);
        await load({ url: s.url, connections: 16, durationSeconds: 3, bodies });
        const result = await load({ url: s.url, connections: 16, durationSeconds: duration, bodies });
        note(`  ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
        rows.push({ round, system: s.name, result, statements: statements[i]! });
      }
    }

    console.log(
      [
        `${WORKERS} worker(s) per server, 16 connections, ${duration} s per run after 3 s of warm-up; load average at the end ${loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")} on ${cpus().length} CPUs`,
        `1 client, one request at a time (median of 15): gateway ${serialMs[0]!.toFixed(1)} ms, select mode ${serialMs[1]!.toFixed(1)} ms`,
        "",
        "| round | server | req/s | p50 ms | p99 ms | KB/resp | SQL stmts/req | non-2xx |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
        ...rows.map(
          (r) =>
            `| ${r.round} | ${r.system} | ${r.result.requestsPerSecond.toFixed(1)} | ${r.result.p50} | ${r.result.p99} | ${(r.result.bytesPerRequest / 1024).toFixed(1)} | ${r.statements} | ${r.result.non2xx + r.result.errors} |`,
        ),
      ].join("\n"),
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    psql(`drop database if exists ${dbName} with (force)`);
    note(`dropped ${dbName}`);
  }
  process.exit(0);
}

interface PeerConnection {
  totalCount: number;
  nodes: { id: string; email: string; phoneNumbers: { nodes: { number: string }[] } }[];
}
interface PeerData {
  viewer: { account: { subAccounts: PeerConnection } };
}
