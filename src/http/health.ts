import type { Plugin } from "graphql-yoga";
import { RETRY_AFTER_SECONDS } from "../db/availability.js";
import { pool } from "../db/client.js";

// Two checks for load balancers and orchestrators, both answered before
// authentication and rate limits, so a probe never spends a budget:
//
// - GET /health (Yoga's healthCheckEndpoint): liveness. The process runs and
//   serves HTTP; restart it only when this fails.
// - GET /health/ready: readiness. 200 while the database (and Redis, when
//   REDIS_URL is set) answers; 503 with Retry-After while it does not, and 200
//   again by itself once it does. Take the instance out of rotation on 503.
//
// A readiness result is shared by the probes of the next READY_CACHE_MS, so a
// flood of probes costs one `SELECT 1` per interval, not one per probe.

export const READY_PATH = "/health/ready";
const READY_CACHE_MS = 500;
/** A database that does not answer `SELECT 1` within this is not ready. */
const READY_CHECK_TIMEOUT_MS = 1_000;

export interface Readiness {
  ready: boolean;
  database: "up" | "down";
  redis?: "up" | "down";
}

export function useReadinessCheck({ redisReady, stopping }: { redisReady: () => boolean | undefined; stopping: () => boolean }): Plugin {
  let last: { at: number; result: Promise<Readiness> } | undefined;
  const check = async (): Promise<Readiness> => {
    const database = (await databaseAnswers()) ? "up" : "down";
    const redisState = redisReady();
    const redis = redisState === undefined ? undefined : redisState ? "up" : "down";
    return { ready: database === "up" && redis !== "down", database, ...(redis && { redis }) };
  };
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== READY_PATH) return;
      if (request.method !== "GET" && request.method !== "HEAD") {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: "GET, HEAD" } }));
        return;
      }
      if (!last || Date.now() - last.at > READY_CACHE_MS) last = { at: Date.now(), result: check() };
      const { ready, ...checks } = await last.result;
      // A process that received SIGTERM is leaving: not ready, whatever its dependencies say.
      const serving = ready && !stopping();
      const body = { status: serving ? "ready" : "unavailable", ...checks, ...(stopping() && { stopping: true }) };
      const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
      if (!serving) headers["retry-after"] = String(RETRY_AFTER_SECONDS);
      endResponse(new fetchAPI.Response(JSON.stringify(body), { status: serving ? 200 : 503, headers }));
    },
  };
}

/** Whether the database answers a trivial statement in time (through the request pool, so a pool that cannot connect is "down"). */
async function databaseAnswers(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([pool.query("SELECT 1").then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
