// Wake-ups between gateway processes: "events committed, read the log". They
// carry no event (the log is the only source: events/stream.ts), so a lost
// or doubled wake-up costs latency at worst, never an event.
//
// - This process's own writes wake its readers (the subscriptions' stream,
//   the webhook queue) at once: every mutation (schema/mutation.ts) and the
//   purge job call `eventsCommitted`.
// - Other processes hear of them through Redis when REDIS_URL is set (Yoga's
//   own Redis event target, one channel), else through Postgres
//   LISTEN/NOTIFY on a real Postgres server. The embedded database serves one
//   process: nothing to tell.
// - Notifications are coalesced: at most one per NOTIFY_EVERY_MS per
//   process, however many mutations commit, because every NOTIFY takes a
//   database-wide lock at commit and a burst of charges must not queue on it.

import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import pg from "pg";
import { pool } from "../db/client.js";
import { logger } from "../observability/logger.js";
import { webhookDeliverer } from "../webhooks/delivery.js";
import { eventStream } from "./stream.js";

/** Everything that reads the log: the subscriptions' stream and the webhook queue. */
function wakeReaders(): void {
  eventStream.wake();
  webhookDeliverer.poke();
}

const CHANNEL = "gateway_events";
const NOTIFY_EVERY_MS = 25;
const RECONNECT_MS = 1_000;

interface WakeupChannel {
  publish(): void;
  close(): Promise<void>;
}

let channel: WakeupChannel | undefined;
let pending: NodeJS.Timeout | undefined;

/** Events were committed by this process: wake its stream now and the other processes' soon. */
export function eventsCommitted(): void {
  wakeReaders();
  if (!channel || pending) return;
  pending = setTimeout(() => {
    pending = undefined;
    channel?.publish();
  }, NOTIFY_EVERY_MS);
  pending.unref();
}

/**
 * Starts listening for the other processes' wake-ups (server.ts): through
 * Redis with `redisUrl`, else through Postgres when `databaseUrl` is a real
 * server; nothing on the embedded database.
 */
export async function startWakeups({ redisUrl, databaseUrl }: { redisUrl?: string; databaseUrl?: string }): Promise<void> {
  if (redisUrl) channel = redisWakeups(redisUrl);
  else if (databaseUrl) channel = await postgresWakeups(databaseUrl);
}

export async function stopWakeups(): Promise<void> {
  clearTimeout(pending);
  pending = undefined;
  await channel?.close();
  channel = undefined;
}

function redisWakeups(redisUrl: string): WakeupChannel {
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // Outages are logged by the rate limiter's connection (http/rateLimit.ts); the stream's poll covers them.
  for (const client of [publishClient, subscribeClient]) client.on("error", () => {});
  const target = createRedisEventTarget({ publishClient, subscribeClient });
  const listener = () => wakeReaders();
  target.addEventListener(CHANNEL, listener);
  return {
    publish: () => target.dispatchEvent(new CustomEvent(CHANNEL, { detail: null })),
    async close() {
      target.removeEventListener(CHANNEL, listener);
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

async function postgresWakeups(databaseUrl: string): Promise<WakeupChannel> {
  let client: pg.Client | undefined;
  let closed = false;
  const listen = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on("notification", () => wakeReaders());
    next.on("error", () => {
      // The connection is gone: listen again shortly; the stream's poll covers the gap.
      if (client === next) client = undefined;
      next.end().catch(() => {});
      setTimeout(() => void listen(), RECONNECT_MS).unref();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      client = next;
    } catch (error) {
      logger.warn({ err: error }, "listening for other processes' events failed; retrying");
      next.end().catch(() => {});
      setTimeout(() => void listen(), RECONNECT_MS).unref();
    }
  };
  await listen();
  return {
    publish: () => {
      pool.query(`SELECT pg_notify('${CHANNEL}', '')`).catch(() => {});
    },
    async close() {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}
