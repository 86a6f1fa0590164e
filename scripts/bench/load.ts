// The load generator, run by scripts/bench/index.ts in its OWN process (so
// the client's CPU is not the server's): reads a scenario from the JSON file
// named by argv[2], drives the server with autocannon, prints one JSON line.
import { readFileSync } from "node:fs";
import autocannon, { type Request } from "autocannon";

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Fixed requests, cycled through in order by every connection. */
  bodies?: { token: string; body: string }[];
  /** recordUsage: each request picks a random (account, key) and a fresh idempotency key. */
  recordUsage?: { subs: { id: string; key: string }[]; query: string };
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  bytesPerRequest: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadSpec;
const headers = (token: string) => ({ "content-type": "application/json", authorization: `Bearer ${token}` });
let sequence = 0;
const run = `${process.pid}-${Date.now()}`;

const requests = spec.recordUsage
  ? [
      {
        method: "POST" as const,
        setupRequest: (req: Request): Request => {
          const sub = spec.recordUsage!.subs[Math.floor(Math.random() * spec.recordUsage!.subs.length)]!;
          return {
            ...req,
            headers: headers(sub.key),
            body: JSON.stringify({
              query: spec.recordUsage!.query,
              variables: { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: `bench-${run}-${sequence++}` } },
            }),
          };
        },
      },
    ]
  : spec.bodies!.map((b) => ({ method: "POST" as const, headers: headers(b.token), body: b.body }));

const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationSeconds,
  requests,
});
const out: LoadResult = {
  requestsPerSecond: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  requests: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  bytesPerRequest: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
