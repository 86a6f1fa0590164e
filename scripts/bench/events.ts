// The events side of `npm run bench` (scenarios `webhooks` and `sse`): a
// webhook receiver and SSE subscribers on 127.0.0.1 in this process, timing
// each event from its commit (the event's occurredAt, the charge's
// transaction time) to its arrival.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** A receiver that answers 204 at once and notes each event's commit-to-arrival time and arrival time. */
export async function startTimingReceiver(): Promise<{ url: string; latencies: number[]; arrivals: number[]; close: () => Promise<void> }> {
  const latencies: number[] = [];
  const arrivals: number[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const now = Date.now();
      arrivals.push(now);
      try {
        latencies.push(now - Date.parse((JSON.parse(body) as { occurredAt: string }).occurredAt));
      } catch {}
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    latencies,
    arrivals,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `count` SSE subscriptions (each its own connection) to Subscription.events
 * as `token`; every `next` message's commit-to-arrival time is noted.
 */
export async function openSubscribers(
  graphqlUrl: string,
  token: string,
  count: number,
): Promise<{ latencies: number[]; received: () => number; close: () => void }> {
  const latencies: number[] = [];
  let received = 0;
  const requests: http.ClientRequest[] = [];
  const body = JSON.stringify({ query: "subscription { events(types: [USAGE_RECORDED]) { occurredAt } }" });
  const opened = Array.from(
    { length: count },
    () =>
      new Promise<void>((resolve, reject) => {
        const request = http.request(
          graphqlUrl,
          {
            method: "POST",
            agent: false,
            headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
          },
          (response) => {
            if (response.statusCode !== 200) return reject(new Error(`subscription answered ${response.statusCode}`));
            resolve();
            let buffer = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => {
              const now = Date.now();
              buffer += chunk;
              let end = buffer.indexOf("\n\n");
              while (end >= 0) {
                const message = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                end = buffer.indexOf("\n\n");
                const data = message
                  .split("\n")
                  .filter((l) => l.startsWith("data:"))
                  .map((l) => l.slice(5).trim())
                  .join("");
                if (!message.includes("event: next") || !data) continue;
                const occurredAt = (JSON.parse(data) as { data?: { events?: { occurredAt: string } } }).data?.events?.occurredAt;
                if (occurredAt) {
                  received++;
                  latencies.push(now - Date.parse(occurredAt));
                }
              }
            });
          },
        );
        request.on("error", reject);
        request.end(body);
        requests.push(request);
      }),
  );
  await Promise.all(opened);
  return {
    latencies,
    received: () => received,
    close: () => {
      for (const r of requests) r.destroy();
    },
  };
}
