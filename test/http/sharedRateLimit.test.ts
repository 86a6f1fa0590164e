// Two gateway processes with REDIS_URL share one budget per key.
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { readiness, waitFor } from "../helpers/remote.js";
import { killServers, startServer } from "../helpers/server.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
afterAll(killServers);

async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

describe("rate limits shared through Redis", async () => {
  const available = await redisReachable();
  it.skipIf(!available)(
    "two processes spend one budget per key",
    async () => {
      const env = {
        REDIS_URL,
        OPERATOR_TOKEN: "op_shared_budget_test",
        RATE_LIMIT_PER_KEY: "6",
        RATE_LIMIT_NAMESPACE: `test-${Date.now()}-${Math.random()}`,
      };
      const servers = await Promise.all([startServer(env), startServer(env)]);
      // Until its Redis connection is ready a process counts on its own budget (the outage fallback).
      for (const server of servers) await waitFor(async () => (await readiness(server.baseUrl)) === 200, { timeoutMs: 10_000 });
      const [a, b] = servers.map((s) => s.port);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        for (const port of [a, b]) {
          const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: "Bearer op_shared_budget_test" },
            body: '{"query":"{ viewer { role } }"}',
          });
          statuses.push(res.status);
        }
      }
      // 10 requests across both processes against one budget of 6.
      expect(statuses.filter((s) => s === 200)).toHaveLength(6);
      expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    },
    300_000,
  );
});
