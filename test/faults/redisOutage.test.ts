// Redis goes away and comes back, twice, under a stream of requests (issue
// 15): a TCP proxy the test controls sits between the gateway and Redis.
// While it is cut, requests go on being served (each process keeps its own
// budgets, the documented fallback), readiness says 503 with `redis: "down"`,
// and the outage is logged once, not per request or per reconnection; once
// it is restored, readiness is 200 again and the shared budget in Redis
// counts requests again.
import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { graphql } from "../helpers/graphql.js";
import { postGraphQL, readiness, waitFor } from "../helpers/remote.js";
import { killServers, startServer } from "../helpers/server.js";
import { startTcpProxy } from "../helpers/tcpProxy.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
afterAll(killServers);

const VIEWER = graphql(`query { viewer { role } }`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

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

describe("Redis goes away and comes back", async () => {
  const available = await redisReachable();
  it.skipIf(!available)(
    "keeps serving on in-process budgets, logs each outage once, reports readiness 503, and shares budgets again after the restore",
    async () => {
      const target = new URL(REDIS_URL);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
      const viaProxy = new URL(REDIS_URL);
      viaProxy.hostname = "127.0.0.1";
      viaProxy.port = String(proxy.port);
      const namespace = `outage-${Date.now()}-${process.pid}`;
      const server = await startServer({ OPERATOR_TOKEN, METRICS_PORT: "off", REDIS_URL: viaProxy.toString(), RATE_LIMIT_NAMESPACE: namespace });
      const direct = new Redis(REDIS_URL);
      const sharedCount = async () => Number((await direct.get(`${namespace}:key:operator`)) ?? 0);

      const statuses: { at: number; status: number; ms: number }[] = [];
      let running = true;
      const client = (async () => {
        while (running) {
          const started = Date.now();
          const res = await postGraphQL(server.baseUrl, OPERATOR_TOKEN, VIEWER, {});
          statuses.push({ at: started, status: res.status, ms: Date.now() - started });
          await sleep(20);
        }
      })();

      await waitFor(async () => (await readiness(server.baseUrl)) === 200, { timeoutMs: 10_000 });
      await sleep(500);
      expect(await sharedCount()).toBeGreaterThan(0);

      const figures: string[] = [];
      for (let outage = 1; outage <= 2; outage++) {
        const cutAt = Date.now();
        proxy.cut();
        const toNotReady = await waitFor(async () => (await readiness(server.baseUrl)) === 503, { timeoutMs: 10_000, everyMs: 50 });
        const body = (await (await fetch(`${server.baseUrl}/health/ready`)).json()) as { redis?: string; database?: string };
        expect(body).toMatchObject({ redis: "down", database: "up" });
        await sleep(3000);
        const during = statuses.filter((s) => s.at > cutAt);
        expect(during.length).toBeGreaterThan(10);
        expect(during.every((s) => s.status === 200)).toBe(true);
        // One line per outage, however many requests and reconnection attempts it saw.
        expect(occurrences(server.output(), "Redis is unreachable")).toBe(outage);

        const countBeforeRestore = await sharedCount();
        const restoredAt = Date.now();
        proxy.restore();
        const toReady = await waitFor(async () => (await readiness(server.baseUrl)) === 200, { timeoutMs: 15_000, everyMs: 50 });
        await waitFor(async () => (await sharedCount()) > countBeforeRestore, { timeoutMs: 10_000, everyMs: 50 });
        expect(occurrences(server.output(), "Redis is reachable again")).toBe(outage);
        const slowest = Math.max(...during.map((s) => s.ms));
        figures.push(`outage ${outage}: readiness 503 after ${toNotReady} ms, slowest request ${slowest} ms, readiness 200 ${toReady} ms after the restore`);
        expect(restoredAt).toBeGreaterThan(cutAt);
      }
      running = false;
      await client;
      expect(statuses.every((s) => s.status === 200)).toBe(true);
      console.log(`redis outage: ${statuses.length} requests, all 200; ${figures.join("; ")}`);

      await direct.quit();
      expect(await server.stop()).toBe(0);
      await proxy.close();
    },
    120_000,
  );
});
