// Entry point of `npm start`: prepare the database, then listen.
//
// With WEB_CONCURRENCY=N (N > 1) and a DATABASE_URL, this process becomes a
// primary that prepares the database and the operator token once, then forks
// N workers sharing the port (node:cluster): one gateway process per core.
// The workers are the stateless processes of README "Scaling": everything
// they share lives in Postgres (and Redis for rate limits when REDIS_URL is
// set; without it the primary keeps the one budget per key over IPC).
import cluster from "node:cluster";
import { createServer, type ServerResponse } from "node:http";
import { resolveOperatorToken } from "./auth/operatorToken.js";
import { clusterWorkerEnv, clusterWorkerIndex, rateLimitSettings, readConfig } from "./config.js";
import { RETRY_AFTER_SECONDS } from "./db/availability.js";
import { prepareDatabase } from "./db/prepare.js";
import { type CollectMetrics, type MetricsListener, serveMetricsToPrimary, startMetricsServer, workerMetricsCollector } from "./observability/metricsServer.js";

const config = readConfig();
const { logger } = await import("./observability/logger.js");
const log = (message: string, fields: Record<string, unknown> = {}) => logger.info(fields, message);

if (cluster.isPrimary && config.workers > 1 && !config.databaseUrl) {
  logger.warn({ workers: config.workers }, "WEB_CONCURRENCY is ignored without DATABASE_URL: the embedded database serves one process");
}

if (cluster.isPrimary && config.workers > 1 && config.databaseUrl) await runPrimary();
else await runGateway();

/** prepareDatabase, or a clear line for the operator (data folder in use, database unreachable) and exit 1, not a stack trace. */
function prepareDatabaseOrExit() {
  return prepareDatabase(config).catch((error: Error) => {
    console.error(`cannot start: ${error.message}`);
    process.exit(1);
  });
}

/** A worker's exit code when it cannot listen (port in use): the primary stops at once instead of replacing it. */
const EXIT_CANNOT_LISTEN = 78;

/**
 * The metrics listener (METRICS_PORT), started before the API listens so
 * that a taken port stops the start with a clear line, like PORT does;
 * undefined with METRICS_PORT=off.
 */
async function startMetricsOrExit(collect: CollectMetrics): Promise<MetricsListener | undefined> {
  if (!config.metrics) {
    log("metrics are off (METRICS_PORT=off)");
    return undefined;
  }
  const { host, port, token } = config.metrics;
  try {
    const listener = await startMetricsServer(config.metrics, collect);
    log(`metrics served on ${listener.url}`, { metricsUrl: listener.url, metricsToken: token ? "required" : "none" });
    return listener;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    logger.error(
      { code },
      code === "EADDRINUSE"
        ? `metrics port ${port} on ${host} is in use: set METRICS_PORT to another port, or METRICS_PORT=off`
        : `cannot serve metrics: ${(error as Error).message}`,
    );
    process.exit(1);
  }
}

/** Prepares the database once, then forks the workers and keeps them running. */
async function runPrimary(): Promise<void> {
  const database = await prepareDatabaseOrExit();
  log("database ready", { database: "DATABASE_URL", migrationsApplied: database.migrationsApplied });
  const operator = resolveOperatorToken(config.operatorToken, config.dataDir);
  if (operator.file) log(`operator token is in ${operator.file}`, { operatorTokenFile: operator.file });
  if (!rateLimitSettings().redisUrl) {
    // Without Redis, the workers' request budgets are kept here, so N workers allow one budget per key, not N.
    const { RateLimiterClusterMaster } = await import("rate-limiter-flexible");
    new RateLimiterClusterMaster();
  }
  // One scrape for the whole server: the primary sums what every worker counted.
  await startMetricsOrExit(workerMetricsCollector());

  let stopping = false;
  // A worker that dies is replaced; one that cannot even start (it dies
  // within seconds, again and again) stops the whole server instead of
  // restarting forever.
  const QUICK_EXIT_MS = 10_000;
  const MAX_QUICK_EXITS = 5;
  let quickExits = 0;
  const fork = (index: number) => {
    const startedAt = Date.now();
    cluster.fork(clusterWorkerEnv(index, operator.token)).on("exit", (code, signal) => {
      if (stopping) return;
      if (code === EXIT_CANNOT_LISTEN) {
        // The port is taken (or not ours to bind): no replacement worker could listen either.
        void shutdown("SIGTERM", 1);
        return;
      }
      quickExits = Date.now() - startedAt < QUICK_EXIT_MS ? quickExits + 1 : 0;
      if (quickExits >= MAX_QUICK_EXITS) {
        logger.error({ worker: index, code, signal }, "workers keep exiting at start; stopping");
        void shutdown("SIGTERM", 1);
        return;
      }
      logger.error({ worker: index, code, signal }, "worker exited; starting another");
      setTimeout(() => stopping || fork(index), 1000);
    });
  };
  for (let i = 0; i < config.workers; i++) fork(i);
  log(`gateway starting ${config.workers} workers on http://${config.host}:${config.port}/graphql`, { workers: config.workers });

  async function shutdown(signal: NodeJS.Signals, exitCode = 0) {
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
    if (stopping) {
      // A second signal: stop the workers now, without their grace period.
      logger.warn({ signal }, "second signal: stopping the workers at once");
      for (const worker of workers) worker!.process.kill("SIGKILL");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    log("shutting down", { signal, graceMs: config.shutdownGraceMs });
    // Each worker finishes its requests within the grace period; one that does not exit a little after it is killed.
    setTimeout(() => {
      for (const worker of workers) if (!worker!.isDead()) worker!.process.kill("SIGKILL");
    }, config.shutdownGraceMs + 5_000).unref();
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker!.once("exit", () => resolve());
            worker!.process.kill(signal);
          }),
      ),
    );
    log("stopped");
    process.exit(exitCode);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** One gateway process: the whole server, or one worker of a cluster. */
async function runGateway(): Promise<void> {
  const worker = cluster.isWorker ? clusterWorkerIndex() : undefined;
  const database = await prepareDatabaseOrExit();
  const operator = resolveOperatorToken(config.operatorToken, config.dataDir);
  if (worker === undefined) {
    log("database ready", {
      database: database.embedded ? `embedded PGlite in ${config.dataDir}/pglite` : "DATABASE_URL",
      migrationsApplied: database.migrationsApplied,
    });
    if (operator.file) log(`operator token is in ${operator.file}`, { operatorTokenFile: operator.file });
  }

  // Imported only now: the Prisma client reads the prepared database settings (config.ts) when it loads.
  const { createApp } = await import("./yoga.js");
  const { drainDatabase } = await import("./db/client.js");
  const { settleKeyUsage } = await import("./auth/authenticate.js");
  const { startPurgeSchedule } = await import("./services/purge.js");
  const { eventStream } = await import("./events/stream.js");
  const { startWakeups, stopWakeups } = await import("./events/wakeups.js");
  const { webhookDeliverer } = await import("./webhooks/delivery.js");

  const yoga = createApp({
    operatorToken: operator.token,
    production: config.production,
    clusterWorker: worker !== undefined,
    corsOrigins: config.corsOrigins,
  });
  // Slow and idle clients are bounded by node:http itself (README "Timeouts"):
  // headers must arrive within headersTimeout (a slowloris client that sends
  // them a byte at a time is cut there), the whole request within
  // requestTimeout (so is a body trickled at 1 byte/s), and an idle kept-alive
  // connection is closed after keepAliveTimeout. The check runs every second
  // instead of node's default 30 s, so a cut comes close to its bound.
  // Other processes' events wake this one's subscriptions (events/wakeups.ts).
  await startWakeups({ redisUrl: rateLimitSettings().redisUrl, databaseUrl: database.embedded ? undefined : config.databaseUrl });
  // Every process delivers webhooks; the queue in Postgres keeps them from doubling (webhooks/delivery.ts).
  webhookDeliverer.start();
  let stopping = false;
  const inFlight = new Set<ServerResponse>();
  const server = createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => {
      // A request that arrives on a kept-alive connection after SIGTERM is
      // not started: 503, so the client retries elsewhere, and the
      // connection is closed after the answer.
      if (stopping) return refuseWhileStopping(response);
      inFlight.add(response);
      response.once("close", () => inFlight.delete(response));
      void yoga(request, response);
    },
  );
  let metrics: MetricsListener | undefined;
  if (worker === undefined) metrics = await startMetricsOrExit(() => yoga.metricsRegistry.metrics());
  else if (config.metrics) serveMetricsToPrimary(yoga.metricsRegistry);
  // One purge schedule per deployment is enough (purges are idempotent anyway).
  const stopPurge = worker === undefined || worker === 0 ? startPurgeSchedule() : () => {};

  server.on("error", (error: NodeJS.ErrnoException) => {
    logger.error(
      { code: error.code },
      error.code === "EADDRINUSE" ? `port ${config.port} on ${config.host} is in use: set PORT to another port` : `cannot listen: ${error.message}`,
    );
    process.exit(EXIT_CANNOT_LISTEN);
  });
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    log(`gateway listening on http://${config.host}:${port}/graphql`, { port, host: config.host, ...(worker !== undefined && { worker }) });
  });

  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: the operator wants out now.
      logger.warn({ signal }, "second signal: exiting without waiting for requests in flight");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    const deadline = Date.now() + config.shutdownGraceMs;
    if (worker === undefined) log("shutting down", { signal, graceMs: config.shutdownGraceMs, inFlight: inFlight.size });
    yoga.beginShutdown();
    // Subscriptions end now (a client resumes elsewhere with `after`): an open stream would hold its connection for the whole grace period.
    eventStream.close();
    // No new deliveries; the ones under way (10 s at most) finish while requests do.
    const deliveriesDone = webhookDeliverer.stop();
    stopPurge();
    // No new connections; idle kept-alive ones close now (node:http), and the
    // ones with a request in flight close after its answer.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const response of inFlight) if (!response.headersSent) response.setHeader("connection", "close");
    // Requests in flight get the grace period; what still runs after it loses its connection.
    const graceOver = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), config.shutdownGraceMs).unref());
    if ((await Promise.race([closed, graceOver])) === "timeout") {
      logger.warn({ inFlight: inFlight.size }, "grace period over: closing the connections still open");
      server.closeAllConnections();
    }
    await metrics?.close();
    await Promise.race([deliveriesDone, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())]);
    await stopWakeups();
    await yoga.close();
    await settleKeyUsage();
    // A client that hung up does not stop its request: wait (within what is
    // left of the grace period, at least a second) for the database work
    // still running, so a charge commits or rolls back instead of losing its
    // connection mid-transaction.
    await drainDatabase(Math.max(1_000, deadline - Date.now()));
    await database.embedded?.stop();
    if (worker === undefined) log("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** The answer to a request that arrives after SIGTERM: not served, retry elsewhere. */
function refuseWhileStopping(response: ServerResponse): void {
  const body = JSON.stringify({
    errors: [{ message: `The server is shutting down; retry after ${RETRY_AFTER_SECONDS} seconds`, extensions: { code: "SERVICE_UNAVAILABLE" } }],
  });
  response.writeHead(503, {
    "content-type": "application/json; charset=utf-8",
    "retry-after": String(RETRY_AFTER_SECONDS),
    connection: "close",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}
