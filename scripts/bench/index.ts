// `npm run bench`: seeds a realistic dataset into the Postgres named by
// DATABASE_URL (bulk SQL), starts the real server (src/server.ts, production
// mode) as a child process, drives it with autocannon from another child
// process, and prints requests/s, p50, p99 and SQL statements per request.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench npm run bench [-- options]
//
// Options:
//   --reset            empty a database that holds other data first (TRUNCATE!)
//   --duration N       seconds per scenario (default 10)
//   --only a,b,...     run only these scenario ids (peer250, peer250r, peer1000, tree, filter, sort, usage, webhooks, sse, sizes, reports)
//   --cpu-prof DIR     run the server under `node --cpu-prof` and write its profile into DIR
//   --json FILE        also write the results as JSON
//   --server-node-args=FLAGS  extra node flags for the server (e.g. --server-node-args=--max-semi-space-size=64)
// Peer (optional, side by side): BENCH_PEER_URL=http://127.0.0.1:5678/graphql BENCH_PEER_JWT_SECRET=...
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { applyMigrations } from "../../src/db/migrate.js";
import { openSubscribers, startTimingReceiver, summarize } from "./events.js";
import type { LoadResult, LoadSpec } from "./load.js";
import { REPORT_SIZES, type ReportsWorld, seedReports } from "./reportsSeed.js";
import { type BenchWorld, resetTables, SIZES, seedBench, TREE_SIZES } from "./seed.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { values: opts } = parseArgs({
  options: {
    reset: { type: "boolean", default: false },
    duration: { type: "string", default: "10" },
    only: { type: "string" },
    "cpu-prof": { type: "string" },
    json: { type: "string" },
    "server-node-args": { type: "string" },
  },
});
const DURATION = Number(opts.duration);
const only = opts.only ? new Set(opts.only.split(",")) : undefined;
const wanted = (id: string) => !only || only.has(id);

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error("npm run bench needs DATABASE_URL=postgresql://... naming a Postgres database it may fill (it never uses the embedded PGlite).");
  process.exit(2);
}

const work = mkdtempSync(path.join(tmpdir(), "gateway-bench-"));
const OPERATOR_TOKEN = "op_bench_operator_token_0123456789abcdef";
const PORT = Number(process.env.BENCH_PORT ?? 4610);
const URL_ = `http://127.0.0.1:${PORT}/graphql`;
const note = (m: string) => console.error(`[bench] ${m}`);

// ------------------------------------------------------------ database
note("applying migrations");
await applyMigrations(databaseUrl);
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
const existing = await db.query<{ n: string; bench: boolean }>(
  `SELECT COUNT(*) AS n, bool_or("email" = 'tree-manager@bench.example') AS bench FROM "accounts"`,
);
if (Number(existing.rows[0]!.n) > 0 && !existing.rows[0]!.bench && !opts.reset) {
  console.error("DATABASE_URL holds accounts that are not the bench's: use a dedicated database, or pass --reset to empty it.");
  process.exit(2);
}
const started = performance.now();
await resetTables(db);
const world: BenchWorld = await seedBench(db);
// Usage reports: 1,000 sub-accounts x 6 products x 31 days under one manager (scripts/bench/reportsSeed.ts).
const reportsWorld: ReportsWorld | undefined = wanted("reports") ? await seedReports(db) : undefined;
const seedSeconds = (performance.now() - started) / 1000;
// The steady state of a live database: autovacuum has set the visibility map
// (index-only counts) and the statistics the planner needs. Right after a
// bulk seed neither holds yet, and the first minutes would measure that.
note("VACUUM ANALYZE after the seed");
await db.query("VACUUM ANALYZE");
const total = (await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "accounts"`)).rows[0]!.n;
note(`seeded ${total} accounts in ${seedSeconds.toFixed(1)} s`);

// ------------------------------------------------------------ server
function startServer(): Promise<ChildProcess> {
  // As `npm start` runs it (package.json), plus any --server-node-args.
  const args = ["--max-semi-space-size=64", "--import", "tsx"];
  if (opts["server-node-args"]) args.push(...opts["server-node-args"].split(/\s+/).filter(Boolean));
  if (opts["cpu-prof"]) args.push("--cpu-prof", `--cpu-prof-dir=${path.resolve(opts["cpu-prof"])}`);
  args.push("src/server.ts");
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      PORT: String(PORT),
      HOST: "127.0.0.1",
      DATA_DIR: path.join(work, "data"),
      OPERATOR_TOKEN,
      RATE_LIMIT_PER_KEY: "1000000000",
      RATE_LIMIT_PER_ADDRESS: "1000000000",
      LOG_LEVEL: "warn",
      // A free port for the metrics listener, so a running gateway's 9464 does not stop the bench.
      METRICS_PORT: "0",
      // The webhook scenario's receiver listens on 127.0.0.1.
      WEBHOOK_ALLOW_INSECURE: "true",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
    const poll = async () => {
      try {
        if ((await fetch(`http://127.0.0.1:${PORT}/health`)).ok) return resolve(child);
      } catch {}
      if (Date.now() > deadline) return reject(new Error("server did not become healthy in 60 s"));
      setTimeout(poll, 200);
    };
    void poll();
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

note("starting the server (production mode)");
const server = await startServer();
const cleanup = () => server.exitCode === null && server.kill("SIGKILL");
let stoppingServer = false;
server.on("exit", (code, signal) => {
  if (!stoppingServer) note(`THE SERVER EXITED UNEXPECTEDLY (code ${code}, signal ${signal})`);
});
process.on("exit", cleanup);

/** The result of a list query on the manager's own account: `{ viewer { account { ... on Manager { subAccounts … } } } }`. */
type ManagerData<S> = { viewer: { account: { subAccounts: S } } };
/** What a list scenario's check reads of its answer. */
type ListData = ManagerData<{ totalCount: number }>;

/** One request; `T` is what the caller's query selects (checked by the caller's own reads). */
async function gql<T = unknown>(token: string, query: string, variables: Record<string, unknown> = {}, url = URL_): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (response.status !== 200 || body.errors) throw new Error(`request failed (${response.status}): ${JSON.stringify(body.errors)}`);
  // A 200 without errors carries data (GraphQL over HTTP).
  return body.data as T;
}

// ------------------------------------------------------------ shapes
const PEER_NODES = "totalCount nodes { id email phoneNumbers { nodes { number } } }";
const Q_PEER250 = `{ viewer { account { ... on Manager { subAccounts(first: 250) { ${PEER_NODES} } } } } }`;
// The 1000-tree in one request: four aliased pages (page size is at most 250).
const Q_PEER1000 = `query($a1: String!, $a2: String!, $a3: String!) { viewer { account { ... on Manager {
  p1: subAccounts(first: 250) { ${PEER_NODES} }
  p2: subAccounts(first: 250, after: $a1) { ${PEER_NODES} }
  p3: subAccounts(first: 250, after: $a2) { ${PEER_NODES} }
  p4: subAccounts(first: 250, after: $a3) { ${PEER_NODES} } } } } }`;
const Q_TREE = `query($after: String, $from: DateTime!, $to: DateTime!) { viewer { account { ... on Manager {
  subAccounts(first: 250, after: $after) { totalCount pageInfo { endCursor hasNextPage }
    nodes { id email status effectiveStatus
      phoneNumbers { nodes { id number status } }
      apiKeys { nodes { id name prefix lastUsedAt } }
      balance { available { amount } totalSpent { amount } creditLimit { amount } remainingCredit { amount } }
      usageSummary(from: $from, to: $to) { lines { product quantity records cost { amount } } totalCost { amount } } } } } } } }`;
const Q_LIST = `query($filter: SubAccountFilter, $sort: SubAccountSort) { viewer { account { ... on Manager {
  subAccounts(first: 50, filter: $filter, sort: $sort) { totalCount nodes { id email organizationName status createdAt } } } } } }`;
const Q_REPORT = `query($from: DateTime, $to: DateTime, $groupBy: UsageGrouping, $sort: UsageReportSort) { viewer { account { ... on Manager {
  usageReport(from: $from, to: $to, groupBy: $groupBy, sort: $sort, first: 250) { totalCount
    totals { lines { product quantity records cost { amount } } totalCost { amount } }
    pageInfo { endCursor hasNextPage }
    edges { cursor node { id account { id email } product start end quantity records cost { amount } } } } } } } }`;
const Q_USAGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename
  ... on RecordUsageSuccess { usageRecord { id quantity } balance { totalSpent { amount } } } ... on Error { code } } }`;

const period = { from: new Date(Date.now() - 31 * 86400_000).toISOString(), to: new Date(Date.now() + 86400_000).toISOString() };
const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

/** endCursors of successive 250-pages of a manager's sub-accounts (null first). */
async function pageCursors(token: string, pages: number): Promise<(string | null)[]> {
  const cursors: (string | null)[] = [null];
  for (let i = 1; i < pages; i++) {
    const data = await gql<ManagerData<{ pageInfo: { endCursor: string | null } }>>(
      token,
      `query($after: String) { viewer { account { ... on Manager { subAccounts(first: 250, after: $after) { pageInfo { endCursor } } } } } }`,
      { after: cursors[i - 1] },
    );
    cursors.push(data.viewer.account.subAccounts.pageInfo.endCursor);
  }
  return cursors;
}
const treeCursors = await pageCursors(world.treeManagerKey, 4);
const treePages = treeCursors.map((after) => body(Q_TREE, { after, ...period }));
const peer1000Body = body(Q_PEER1000, { a1: treeCursors[1], a2: treeCursors[2], a3: treeCursors[3] });

// Check every shape once (answers, not just 200s) before loading it.
const peer250 = await gql<ManagerData<{ nodes: unknown[] }>>(world.treeManagerKey, Q_PEER250);
if (peer250.viewer.account.subAccounts.nodes.length !== 250) throw new Error("peer250: expected 250 nodes");
const tree4 = JSON.parse(treePages[3]!) as { variables: Record<string, unknown> };
const lastPage = await gql<ManagerData<{ nodes: unknown[]; pageInfo: { hasNextPage: boolean } }>>(world.treeManagerKey, Q_TREE, tree4.variables);
if (lastPage.viewer.account.subAccounts.nodes.length !== 250 || lastPage.viewer.account.subAccounts.pageInfo.hasNextPage) {
  throw new Error("tree: the fourth page should end the 1000-tree");
}

// A least-privilege key (ACCOUNTS_READ only) reads the same tree: its schema is
// built on its first request, then served like the role's. It expires within
// the hour and is revoked at the end, so runs do not pile keys up.
const treeManagerId = (await gql<{ viewer: { account: { id: string } } }>(world.treeManagerKey, "{ viewer { account { id } } }")).viewer.account.id;
const readerKey = (
  await gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
    world.treeManagerKey,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeySuccess { secret apiKey { id } } ... on Error { message } } }`,
    { input: { accountId: treeManagerId, name: "bench reader", permissions: ["ACCOUNTS_READ"], expiresAt: new Date(Date.now() + 3_600_000).toISOString() } },
  )
).createApiKey;
const restrictedPeer = await gql<ManagerData<{ nodes: unknown[] }>>(readerKey.secret, Q_PEER250);
if (JSON.stringify(restrictedPeer) !== JSON.stringify(peer250)) throw new Error("peer250r: a restricted key should read the same tree");

interface Scenario {
  id: string;
  label: string;
  token: string;
  bodies: string[];
  connections: number;
  /** Requests per logical operation (e.g. 4 pages per tree). */
  perOperation?: number;
  check?: (data: ListData) => string;
}
const listScenario = (id: string, label: string, variables: Record<string, unknown>, connections = 16): Scenario => ({
  id,
  label: connections === 1 ? `${label}, 1 client` : label,
  token: world.megaManagerKey,
  bodies: [body(Q_LIST, variables)],
  connections,
  check: (d) => `totalCount ${d.viewer.account.subAccounts.totalCount}`,
});
const scenarios: Scenario[] = [
  { id: "peer250", label: "(a) peer shape: 250 sub-accounts -> numbers", token: world.treeManagerKey, bodies: [body(Q_PEER250)], connections: 16 },
  {
    id: "peer250r",
    label: "(a) the same with a key restricted to ACCOUNTS_READ",
    token: readerKey.secret,
    bodies: [body(Q_PEER250)],
    connections: 16,
  },
  {
    id: "peer1000",
    label: "(a') peer shape: 1000 sub-accounts -> numbers (4 aliased pages, 1 request)",
    token: world.treeManagerKey,
    bodies: [peer1000Body],
    connections: 16,
  },
  {
    id: "tree",
    label: "(b) tree page: 250 subs -> numbers, keys, balance, usageSummary (4 pages cycled)",
    token: world.treeManagerKey,
    bodies: treePages,
    connections: 16,
    perOperation: 4,
  },
  ...[1, 16].flatMap((c) => [
    listScenario("filter", "(c) 100k subs: email contains (1 match)", { filter: { email: { contains: world.search.emailRare } } }, c),
    listScenario("filter", "(c) 100k subs: organizationName contains (~0.2%)", { filter: { organizationName: { contains: world.search.orgCommon } } }, c),
    listScenario("filter", "(c) 100k subs: email contains 'client42' (~2%), EMAIL_ASC", { filter: { email: { contains: "client42" } }, sort: "EMAIL_ASC" }, c),
  ]),
  ...(["CREATED_AT_DESC", "CREATED_AT_ASC", "EMAIL_ASC", "EMAIL_DESC"] as const).map((sort) =>
    listScenario("sort", `(c) 100k subs: first 50, sort ${sort}`, { sort }, 1),
  ),
  listScenario("sort", "(c) 100k subs: first 50, sort EMAIL_ASC", { sort: "EMAIL_ASC" }, 16),
];

for (const s of scenarios.filter((s) => wanted(s.id) && s.check)) {
  const parsed = JSON.parse(s.bodies[0]!) as { query: string; variables: Record<string, unknown> };
  s.label += ` [${s.check!(await gql<ListData>(s.token, parsed.query, parsed.variables))}]`;
}

// ------------------------------------------------------------ statement counts (in-process)
const usageBody = (key: string, sub = world.rollupSubs[0]!) =>
  body(Q_USAGE, { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: key } });
{
  const probe = await gql<{ recordUsage: { __typename: string } }>(
    world.rollupSubs[0]!.key,
    Q_USAGE,
    (JSON.parse(usageBody("probe")) as { variables: Record<string, unknown> }).variables,
  );
  if (probe.recordUsage.__typename !== "RecordUsageSuccess") throw new Error(`recordUsage probe: ${JSON.stringify(probe)}`);
}
const counted = [
  ...scenarios.map((s) => ({ name: s.label, token: s.token, warm: s.bodies[s.bodies.length - 1]!, measure: s.bodies[s.bodies.length - 1]! })),
  { name: "recordUsage", token: world.rollupSubs[0]!.key, warm: usageBody("count-warm"), measure: usageBody("count-measure") },
  ...(reportsWorld
    ? (["COST_DESC", "TIME_ASC"] as const).map((sort) => {
        const b = body(Q_REPORT, { from: reportsWorld.from, to: reportsWorld.to, groupBy: "DAY", sort });
        return { name: `reports: Manager.usageReport DAY ${sort}`, token: reportsWorld.managerKey, warm: b, measure: b };
      })
    : []),
];
const countFile = path.join(work, "count.json");
writeFileSync(countFile, JSON.stringify({ operatorToken: OPERATOR_TOKEN, shapes: counted }));
note("counting SQL statements per request (in-process, src/db/client.ts statementCounter)");
const statementCounts = JSON.parse(await runChild(["--import", "tsx", "scripts/bench/count.ts", countFile], { DATABASE_URL: databaseUrl })) as Record<
  string,
  { statements: number; ms: number }
>;

// ------------------------------------------------------------ load
function runChild(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n").pop()!) : reject(new Error(`${args.join(" ")} exited ${code}`))));
  });
}
async function load(spec: LoadSpec): Promise<LoadResult> {
  const file = path.join(work, `load-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const result = JSON.parse(await runChild(["--import", "tsx", "scripts/bench/load.ts", file])) as LoadResult;
  note(`  ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
  return result;
}

interface Row {
  label: string;
  result: LoadResult;
  connections: number;
  statements?: number;
  perOperation?: number;
  system: "gateway" | "peer";
}
const rows: Row[] = [];

// Optional peer (PostGraphile 5 + RLS), side by side with the same load.
const peerUrl = process.env.BENCH_PEER_URL;
const peerToken = peerUrl ? jwt({ account_id: 1, role: "app_user", aud: "postgraphile" }, process.env.BENCH_PEER_JWT_SECRET ?? "") : "";
const peerDir = path.join(ROOT, "../shared/peer-postgraphile");
function jwt(claims: Record<string, unknown>, secret: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ ...claims, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 86400 })}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}

note(`warming up (${Math.min(DURATION, 5)} s)`);
await load({ url: URL_, connections: 16, durationSeconds: Math.min(DURATION, 5), bodies: [{ token: world.treeManagerKey, body: treePages[0]! }] });

// Each scenario, and the peer's, first runs unmeasured for a few seconds with
// its own queries: a process's first runs of a new document compile it (the
// gateway's graphql-jit, the peer's plan cache) and warm V8's optimiser, and
// that belongs to neither system's steady state.
const SCENARIO_WARM_UP_SECONDS = Math.min(DURATION, 3);

for (const s of scenarios.filter((s) => wanted(s.id))) {
  note(`load: ${s.label}`);
  const bodies = s.bodies.map((b) => ({ token: s.token, body: b }));
  await load({ url: URL_, connections: s.connections, durationSeconds: SCENARIO_WARM_UP_SECONDS, bodies });
  const result = await load({ url: URL_, connections: s.connections, durationSeconds: DURATION, bodies });
  rows.push({
    label: s.label,
    result,
    connections: s.connections,
    statements: statementCounts[s.label]?.statements,
    perOperation: s.perOperation,
    system: "gateway",
  });
  if (peerUrl && (s.id === "peer250" || s.id === "peer1000")) {
    const q = readFileSync(path.join(peerDir, s.id === "peer250" ? "q250.json" : "q.json"), "utf8");
    note(`load: peer ${s.id}`);
    await load({ url: peerUrl, connections: 16, durationSeconds: SCENARIO_WARM_UP_SECONDS, bodies: [{ token: peerToken, body: q }] });
    const peer = await load({ url: peerUrl, connections: 16, durationSeconds: DURATION, bodies: [{ token: peerToken, body: q }] });
    rows.push({
      label: `PEER PostGraphile 5 + RLS: ${s.id === "peer250" ? "250" : "1000"}-tree (${s.id === "peer250" ? "q250.json" : "q.json"})`,
      result: peer,
      connections: 16,
      system: "peer",
    });
  }
}

// recordUsage under contention: 32 clients, 32 rollup sub-accounts, one shared balance.
let usageReport = "";
if (wanted("usage")) {
  const before = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "usage_records" WHERE "idempotencyKey" LIKE 'bench-%'`);
  note("load: recordUsage, 32 clients on one shared (rollup) balance");
  const result = await load({ url: URL_, connections: 32, durationSeconds: DURATION, recordUsage: { subs: world.rollupSubs, query: Q_USAGE } });
  const after = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "usage_records" WHERE "idempotencyKey" LIKE 'bench-%'`);
  const charges = Number(after.rows[0]!.n) - Number(before.rows[0]!.n);
  rows.push({
    label: `(d) recordUsage, 32 clients, 32 rollup subs sharing one balance: ${charges} charges = ${(charges / DURATION).toFixed(0)} charges/s`,
    result,
    connections: 32,
    statements: statementCounts.recordUsage?.statements,
    system: "gateway",
  });
  // The invariants, over every account (DOMAIN.md; as test/billing/operations.ts checks them).
  const bad = await db.query(`
    SELECT a."id", a."email", a."balanceMicros", l.sum AS ledger, a."totalSpentMicros", u.sum AS usage
    FROM "accounts" a
    LEFT JOIN (SELECT "balanceAccountId" AS id, SUM("amountMicros") AS sum FROM "ledger_entries" GROUP BY 1) l ON l.id = a."id"
    LEFT JOIN (SELECT "accountId" AS id, SUM("costMicros") AS sum FROM "usage_records" GROUP BY 1) u ON u.id = a."id"
    WHERE a."balanceMicros" <> COALESCE(l.sum, 0) OR a."balanceMicros" < 0 OR a."totalSpentMicros" <> COALESCE(u.sum, 0)
       OR (a."creditLimitMicros" IS NOT NULL AND a."totalSpentMicros" > a."creditLimitMicros")`);
  const orphan = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "usage_records" u
    WHERE (SELECT COUNT(*) FROM "ledger_entries" l WHERE l."usageRecordId" = u."id" AND l."kind" = 'CHARGE' AND l."amountMicros" = -u."costMicros") <> 1`);
  const shared = await db.query(
    `SELECT a."balanceMicros", (SELECT SUM("amountMicros") FROM "ledger_entries" WHERE "balanceAccountId" = a."id") AS ledger
    FROM "accounts" a WHERE a."id" = $1`,
    [world.rollupManagerId],
  );
  usageReport = [
    `recordUsage: ${charges} charges in ${DURATION} s (${(charges / DURATION).toFixed(0)}/s); HTTP requests ${result.requests}, non-2xx ${result.non2xx}, errors ${result.errors}`,
    `shared balance: ${shared.rows[0].balanceMicros} micros = ledger sum ${shared.rows[0].ledger}`,
    `invariants over all ${total} accounts (balance = sum of ledger, balance >= 0, totalSpent = sum of usage, within credit limit): ${bad.rowCount === 0 ? "HOLD" : `VIOLATED on ${bad.rowCount} accounts: ${JSON.stringify(bad.rows.slice(0, 3))}`}`,
    `usage records without exactly one matching CHARGE entry: ${orphan.rows[0]!.n}`,
  ].join("\n");
}

// Events: the same recordUsage load with a webhook endpoint on the shared
// balance's manager (it receives every charge's event), beside the figure
// without one above; then 500 SSE subscribers of that tree.
const eventReports: string[] = [];
const managerGlobalId = Buffer.from(`Manager:${world.rollupManagerId}`).toString("base64");
const usageRow = () => rows.find((r) => r.label.startsWith("(d) recordUsage"));
const chargesSince = async (before: number) =>
  Number((await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "usage_records" WHERE "idempotencyKey" LIKE 'bench-%'`)).rows[0]!.n) - before;
const benchCharges = async () => chargesSince(0);
if (wanted("webhooks")) {
  const receiver = await startTimingReceiver();
  const created = await gql<{ createWebhookEndpoint: { __typename: string; endpoint?: { id: string } } }>(
    world.rollupManagerKey,
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on CreateWebhookEndpointSuccess { endpoint { id } } } }`,
    { input: { accountId: managerGlobalId, url: receiver.url, eventTypes: ["USAGE_RECORDED"] } },
  );
  if (created.createWebhookEndpoint.__typename !== "CreateWebhookEndpointSuccess") throw new Error(JSON.stringify(created));
  note("load: recordUsage, 32 clients on one shared balance, with a webhook endpoint receiving every charge");
  const before = await benchCharges();
  const result = await load({ url: URL_, connections: 32, durationSeconds: DURATION, recordUsage: { subs: world.rollupSubs, query: Q_USAGE } });
  const charges = await chargesSince(before);
  const loadEnded = Date.now();
  // Let the queue drain, then count what arrived.
  for (let waited = 0; receiver.arrivals.length < charges && waited < 60_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
  const drainedMs = Date.now() - loadEnded;
  const latency = summarize(receiver.latencies);
  const firstArrival = Math.min(...receiver.arrivals);
  const lastArrival = Math.max(...receiver.arrivals);
  const without = usageRow();
  const withoutRate = without ? Number(/= (\d+) charges\/s/.exec(without.label)?.[1]) : Number.NaN;
  const withRate = charges / DURATION;
  rows.push({
    label: `(e) recordUsage as (d), with a webhook endpoint receiving every charge: ${charges} charges = ${withRate.toFixed(0)} charges/s`,
    result,
    connections: 32,
    statements: statementCounts.recordUsage?.statements,
    system: "gateway",
  });
  eventReports.push(
    `webhooks: ${withRate.toFixed(0)} charges/s with the endpoint vs ${Number.isNaN(withoutRate) ? "?" : withoutRate} without (${Number.isNaN(withoutRate) ? "?" : ((100 * withRate) / withoutRate).toFixed(0)}%); ` +
      `${receiver.arrivals.length} of ${charges} events delivered (${drainedMs} ms after the load to drain); ` +
      `commit-to-receiver p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms; ` +
      `${(receiver.arrivals.length / Math.max(0.001, (lastArrival - firstArrival) / 1000)).toFixed(0)} deliveries/s`,
  );
  await gql(world.rollupManagerKey, `mutation($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { __typename } }`, {
    id: created.createWebhookEndpoint.endpoint!.id,
  });
  await receiver.close();
}
if (wanted("sse")) {
  const SUBSCRIBERS = 500;
  note(`load: ${SUBSCRIBERS} SSE subscribers of the rollup tree, charges at about 20/s`);
  const subscribers = await openSubscribers(URL_, world.rollupManagerKey, SUBSCRIBERS);
  await new Promise((r) => setTimeout(r, 1000));
  const sent = Math.max(20, DURATION * 20);
  for (let i = 0; i < sent; i++) {
    const sub = world.rollupSubs[i % world.rollupSubs.length]!;
    await gql(sub.key, Q_USAGE, { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: `bench-sse-${Date.now()}-${i}` } });
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let waited = 0; subscribers.received() < sent * SUBSCRIBERS && waited < 30_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
  const latency = summarize(subscribers.latencies);
  subscribers.close();
  eventReports.push(
    `SSE fan-out: ${SUBSCRIBERS} subscribers x ${sent} events = ${subscribers.received()} of ${sent * SUBSCRIBERS} deliveries; event-to-client p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`,
  );
}

// Usage reports: the report query of the whole 1,000-sub-account tree for
// the seeded month (p50 and p99 of 20 runs, one client), and its CSV
// download, timed, with the server's peak memory (VmHWM) while it streams.
const reportsLines: string[] = [];
if (reportsWorld) {
  const { from, to, managerKey } = reportsWorld;
  const memory = () => {
    const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  };
  const RUNS = 20;
  const timed = async (label: string, variables: Record<string, unknown>, check: (r: { totalCount: number; edges: unknown[] }) => void) => {
    type Report = { viewer: { account: { usageReport: { totalCount: number; edges: unknown[] } } } };
    for (let i = 0; i < 3; i++) await gql<Report>(managerKey, Q_REPORT, variables);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const data = await gql<Report>(managerKey, Q_REPORT, variables);
      times.push(performance.now() - t0);
      check(data.viewer.account.usageReport);
    }
    const s = summarize(times);
    const statements = statementCounts[`reports: Manager.usageReport DAY ${String(variables.sort)}`]?.statements;
    reportsLines.push(`| ${label} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} | ${statements ?? "n/a"} |`);
    note(`  ${label}: p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms`);
  };
  const records = reportsWorld.records;
  note(
    `reports: ${records} usage records under one manager (${REPORT_SIZES.subAccounts} subs x ${REPORT_SIZES.products} products x ${REPORT_SIZES.days} days)`,
  );
  reportsLines.push(
    `Usage reports: one manager, ${REPORT_SIZES.subAccounts} sub-accounts x ${REPORT_SIZES.products} products x ${REPORT_SIZES.days} days = ${records} usage records (${from.slice(0, 10)} to ${to.slice(0, 10)}); one client, ${RUNS} runs each after 3 unmeasured, server in production mode.`,
    "",
    "| Manager.usageReport, whole tree, first: 250 with totals and totalCount | p50 ms | p99 ms | SQL stmts/req |",
    "|---|---:|---:|---:|",
  );
  const fullPage = (r: { totalCount: number; edges: unknown[] }) => {
    if (r.edges.length !== 250) throw new Error(`reports: expected a page of 250 lines, got ${r.edges.length}`);
  };
  await timed(`groupBy DAY, sort COST_DESC (${records} lines)`, { from, to, groupBy: "DAY", sort: "COST_DESC" }, (r) => {
    fullPage(r);
    if (r.totalCount !== records) throw new Error(`reports: totalCount ${r.totalCount}, expected ${records}`);
  });
  await timed(`groupBy DAY, sort TIME_ASC (${records} lines)`, { from, to, groupBy: "DAY", sort: "TIME_ASC" }, fullPage);
  await timed(`groupBy MONTH, sort COST_DESC (${records / REPORT_SIZES.days} lines)`, { from, to, groupBy: "MONTH", sort: "COST_DESC" }, fullPage);
  await timed("whole period (no groupBy), sort TIME_ASC", { from, to, sort: "TIME_ASC" }, fullPage);

  // The CSV: the whole month by day, and about 100,000 lines (17 days).
  reportsLines.push(
    "",
    "| GET /reports/usage.csv (manager, whole tree, groupBy=DAY) | lines | MB | first byte ms | total ms | server VmRSS before MB | server peak (VmHWM) during MB |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  const csvUrl = (days: number) =>
    `http://127.0.0.1:${PORT}/reports/usage.csv?from=${from}&to=${new Date(Date.parse(from) + days * 86_400_000).toISOString()}&groupBy=DAY`;
  const download = async (url: string) => {
    const t0 = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${managerKey}` } });
    if (response.status !== 200) throw new Error(`reports: CSV answered ${response.status}: ${await response.text()}`);
    const reader = response.body!.getReader();
    let bytes = 0;
    let newlines = 0;
    let firstByte = Number.NaN;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (Number.isNaN(firstByte)) firstByte = performance.now() - t0;
      bytes += value.byteLength;
      for (let i = 0; i < value.length; i++) if (value[i] === 10) newlines++;
    }
    return { lines: newlines - 1, bytes, firstByte, total: performance.now() - t0 };
  };
  for (const days of [17, REPORT_SIZES.days]) {
    await download(csvUrl(days)); // warm
    const before = memory();
    // Reset the peak to the current RSS (Linux 4.0+), so VmHWM afterwards is the peak of this download alone.
    let reset = true;
    try {
      writeFileSync(`/proc/${server.pid}/clear_refs`, "5");
    } catch {
      reset = false;
    }
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await download(csvUrl(days)));
    const after = memory();
    runs.sort((a, b) => a.total - b.total);
    const median = runs[1]!;
    reportsLines.push(
      `| ${days} days | ${median.lines} | ${(median.bytes / 1e6).toFixed(1)} | ${median.firstByte.toFixed(0)} | ${median.total.toFixed(0)} (median of 3) | ${before.rssMb.toFixed(0)} | ${after.hwmMb.toFixed(0)}${reset ? "" : " (peak since start: clear_refs refused)"} |`,
    );
    note(
      `  CSV ${days} days: ${median.lines} lines in ${median.total.toFixed(0)} ms; RSS before ${before.rssMb.toFixed(0)} MB, peak during ${after.hwmMb.toFixed(0)} MB`,
    );
  }
}

// Whole-tree latency by tree size: one client pages through the nested tree (250 per page), median of 5.
const sizeRows: { size: number; pages: number; medianMs: number; p90Ms: number }[] = [];
if (wanted("sizes")) {
  for (const size of TREE_SIZES) {
    const token = world.treeKeys[size]!;
    const cursors = await pageCursors(token, Math.ceil(size / 250));
    const times: number[] = [];
    for (let run = 0; run < 7; run++) {
      const t0 = performance.now();
      for (const after of cursors) await gql(token, Q_TREE, { after, ...period });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    sizeRows.push({ size, pages: cursors.length, medianMs: Math.round(times[3]!), p90Ms: Math.round(times[6]!) });
  }
}

stoppingServer = true;
await gql(world.treeManagerKey, `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { __typename } }`, { id: readerKey.apiKey.id });
await stopServer(server);
await db.end();

// ------------------------------------------------------------ report
const pad = (s: string | number, n: number) => String(s).padStart(n);
const lines = [
  `Seed: ${total} accounts (${SIZES.managers} managers x ${SIZES.subAccountsPerManager}, one manager with ${SIZES.megaSubAccounts}, trees of ${TREE_SIZES.join("/")}, ${SIZES.rollupSubAccounts} rollup subs) in ${seedSeconds.toFixed(1)} s`,
  `Load: autocannon in a separate process, ${DURATION} s per scenario after ${SCENARIO_WARM_UP_SECONDS} s unmeasured with the same queries (the peer too), server in production mode (DATABASE_POOL_SIZE ${process.env.DATABASE_POOL_SIZE ?? 10}${opts["server-node-args"] ? `, node ${opts["server-node-args"]}` : ""}); load average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} CPUs.`,
  `SQL statements per request: counted in-process with src/db/client.ts statementCounter (same app, same database, one request after a warm-up; pg_stat_statements is not preloaded here).`,
  "",
  "| scenario | conns | req/s | p50 ms | p99 ms | KB/resp | SQL stmts/req | non-2xx |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.label} | ${r.connections} | ${r.result.requestsPerSecond.toFixed(1)}${r.perOperation ? ` (${(r.result.requestsPerSecond / r.perOperation).toFixed(1)} trees/s)` : ""} | ${r.result.p50} | ${r.result.p99} | ${(r.result.bytesPerRequest / 1024).toFixed(1)} | ${r.statements ?? (r.system === "peer" ? "n/a" : "?")} | ${r.result.non2xx + r.result.errors} |`,
  ),
];
if (usageReport) lines.push("", usageReport);
if (reportsLines.length) lines.push("", ...reportsLines);
if (eventReports.length) lines.push("", ...eventReports);
if (sizeRows.length) {
  lines.push("", "| whole nested tree, 1 client | pages | median ms | max of 7 ms |", "|---:|---:|---:|---:|");
  for (const r of sizeRows) lines.push(`| ${r.size} sub-accounts | ${r.pages} | ${r.medianMs} | ${r.p90Ms} |`);
}
console.log(lines.join("\n"));
if (opts.json) writeFileSync(opts.json, JSON.stringify({ seedSeconds, rows, statementCounts, sizeRows, usageReport, eventReports }, null, 2));
void pad;
