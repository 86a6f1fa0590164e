// SQL statements per request, counted in-process: the server's own process
// cannot be read from outside (and pg_stat_statements is usually not
// preloaded), so this child process builds the same app (src/yoga.ts) over
// the bench database and reads src/db/client.ts's statementCounter around one
// request of each shape, after a warm-up request of the same shape.
// argv[2]: JSON file of { operatorToken, shapes: [{ name, token, warm, measure }] }.
import { readFileSync } from "node:fs";
import { databaseSettings } from "../../src/config.js";

interface Shape {
  name: string;
  token: string;
  /** Request bodies (JSON strings): one to warm up, one to count (they differ for idempotent mutations). */
  warm: string;
  measure: string;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as { operatorToken: string; shapes: Shape[] };
if (!databaseSettings().url) throw new Error("DATABASE_URL is not set");
const { createApp } = await import("../../src/yoga.js");
const { statementCounter, disconnectDatabase } = await import("../../src/db/client.js");
const app = createApp({
  operatorToken: spec.operatorToken,
  production: true,
  rateLimits: { perKey: 1e9, perAddress: 1e9, windowSeconds: 60 },
});

async function send(token: string, body: string) {
  const response = await app.fetch("http://bench.local/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body,
  });
  const json = (await response.json()) as { errors?: unknown };
  if (response.status !== 200 || json.errors) throw new Error(`request failed (${response.status}): ${JSON.stringify(json.errors)}`);
}

const counts: Record<string, { statements: number; ms: number }> = {};
for (const shape of spec.shapes) {
  await send(shape.token, shape.warm);
  // Let the fire-and-forget lastUsedAt write of the warm-up settle first.
  await new Promise((r) => setTimeout(r, 50));
  const before = statementCounter.count;
  const started = performance.now();
  await send(shape.token, shape.measure);
  counts[shape.name] = { statements: statementCounter.count - before, ms: Math.round(performance.now() - started) };
}
await app.close();
await disconnectDatabase();
process.stdout.write(`${JSON.stringify(counts)}\n`);
process.exit(0);
