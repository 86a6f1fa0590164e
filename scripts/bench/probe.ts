// In-process timing of one request shape: builds the app (src/yoga.ts) over
// DATABASE_URL and sends the same request N times in sequence, then
// concurrently, printing ms per request. A quick loop for optimisation work;
// `npm run bench` is the measurement of record.
//   DATABASE_URL=... npx tsx scripts/bench/probe.ts [peer250|tree|minimal|usage] [N]
// With PROBE_CPU_PROFILE=FILE, the concurrent phase alone (no start-up, no
// warm-up) is CPU-profiled into FILE (read it with profile-summary.ts); with
// PROBE_HEAP_PROFILE=FILE, its allocations are sampled into FILE (a
// .heapprofile for Chrome DevTools).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { benchSecret } from "./seed.js";

const shape = process.argv[2] ?? "peer250";
const N = Number(process.argv[3] ?? 50);
const { createApp } = await import("../../src/yoga.js");
const { statementCounter, disconnectDatabase } = await import("../../src/db/client.js");
const app = createApp({
  operatorToken: "op_probe_operator_token_0123456789abcd",
  production: true,
  rateLimits: { perKey: 1e9, perAddress: 1e9, windowSeconds: 60 },
});
const token = benchSecret("tree-manager@bench.example");
const QUERIES: Record<string, string> = {
  // The fixed cost of a request: authentication, parsing, validation, the HTTP layer.
  minimal: `{ viewer { account { id } } }`,
  peer250: `{ viewer { account { ... on Manager { subAccounts(first: 250) { totalCount nodes { id email phoneNumbers { nodes { number } } } } } } } }`,
  tree: `{ viewer { account { ... on Manager { subAccounts(first: 250) { totalCount pageInfo { endCursor hasNextPage }
    nodes { id email status effectiveStatus phoneNumbers { nodes { id number status } } apiKeys { nodes { id name prefix lastUsedAt } }
      balance { available { amount } totalSpent { amount } creditLimit { amount } remainingCredit { amount } } } } } } } }`,
};
// `usage`: recordUsage by one of the rollup sub-accounts (as the bench's scenario d), a fresh idempotency key each time.
const USAGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename
  ... on RecordUsageSuccess { usageRecord { id quantity } balance { totalSpent { amount } } } ... on Error { code } } }`;
const usageKey = benchSecret("rollup-sub-1@bench.example");
let usageAccount = "";
let sequence = 0;
const bodyOf = () =>
  shape === "usage"
    ? JSON.stringify({
        query: USAGE,
        variables: { input: { accountId: usageAccount, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: `probe-${process.pid}-${sequence++}` } },
      })
    : JSON.stringify({ query: QUERIES[shape] });
if (shape === "usage") {
  const response = await app.fetch("http://bench.local/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${usageKey}` },
    body: JSON.stringify({ query: "{ viewer { account { id } } }" }),
  });
  usageAccount = ((await response.json()) as { data: { viewer: { account: { id: string } } } }).data.viewer.account.id;
}
async function send(): Promise<number> {
  const body = bodyOf();
  const response = await app.fetch("http://bench.local/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${shape === "usage" ? usageKey : token}` },
    body,
  });
  const text = await response.text();
  if (response.status !== 200 || text.includes('"errors"') || text.includes('"code"')) throw new Error(text.slice(0, 500));
  return text.length;
}
for (let i = 0; i < 10; i++) await send();
const before = statementCounter.count;
let t = performance.now();
let bytes = 0;
for (let i = 0; i < N; i++) bytes = await send();
const seq = (performance.now() - t) / N;
const statements = (statementCounter.count - before) / N;
const profileFile = process.env.PROBE_CPU_PROFILE;
const heapFile = process.env.PROBE_HEAP_PROFILE;
const inspector = profileFile || heapFile ? new Session() : undefined;
if (inspector) inspector.connect();
if (inspector && profileFile) {
  await inspector.post("Profiler.enable");
  await inspector.post("Profiler.start");
}
// Allocation sampling (every 8 KB), kept only for objects already collected too: what a request allocates, not what stays.
if (inspector && heapFile)
  await inspector.post("HeapProfiler.startSampling", {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
t = performance.now();
const cpu = process.cpuUsage();
await Promise.all(
  Array.from({ length: 16 }, async () => {
    for (let i = 0; i < N / 16; i++) await send();
  }),
);
const conc = (performance.now() - t) / N;
const used = process.cpuUsage(cpu);
if (inspector && profileFile) writeFileSync(profileFile, JSON.stringify((await inspector.post("Profiler.stop")).profile));
if (inspector && heapFile) writeFileSync(heapFile, JSON.stringify((await inspector.post("HeapProfiler.stopSampling")).profile));
const cpuMs = (used.user + used.system) / 1000 / N;
console.log(
  `${shape}: sequential ${seq.toFixed(2)} ms/req, 16 concurrent ${conc.toFixed(2)} ms/req (${(1000 / conc).toFixed(0)} req/s), Node CPU ${cpuMs.toFixed(2)} ms/req, ${statements.toFixed(1)} statements/req, ${bytes} bytes`,
);
await app.close();
await disconnectDatabase();
process.exit(0);
