// The one module that reads the environment (and the one that writes it).
//
// Every variable the gateway understands (README "Configuration"), its
// default and its validation live here, so the README's table can be checked
// against one file, a bad value stops the start with one clear line, and the
// rest of the code receives typed values instead of strings. Each function
// takes `env = process.env`, so tests pass a plain object instead of mutating
// the process's environment.
//
// Most settings are read once at start (readConfig). The database client's
// are read later, when src/db/client.ts loads (databaseSettings): the database
// is prepared first (db/prepare.ts, test/setupDatabase.ts), and only then is
// its URL known.
import path from "node:path";

/** The server's runtime interface (README: "Configuration"), read once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Unset: run the embedded PGlite database under dataDir. */
  databaseUrl: string | undefined;
  operatorToken: string | undefined;
  production: boolean;
  /** WEB_CONCURRENCY: gateway worker processes (with DATABASE_URL); 1 runs a single process. */
  workers: number;
  /** The Prometheus listener (METRICS_PORT, METRICS_HOST, METRICS_TOKEN); undefined with METRICS_PORT=off. */
  metrics: MetricsConfig | undefined;
  /** CORS_ORIGINS: origins browsers may call the API from; empty: no cross-origin access; ["*"]: any. */
  corsOrigins: string[];
  /** SHUTDOWN_GRACE_MS: how long requests in flight may finish after SIGTERM before their connections are cut. */
  shutdownGraceMs: number;
  /** How long the HTTP server waits for slow or idle clients (README "Timeouts"). */
  http: HttpTimeouts;
}

/** The HTTP server's bounds on slow and idle clients (node:http's own timeouts). */
export interface HttpTimeouts {
  /** HTTP_HEADERS_TIMEOUT_MS: a request's headers must arrive within this (a slowloris client is cut here). */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS: the whole request, body included, must arrive within this (a trickled body is cut here). */
  requestTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: an idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export interface MetricsConfig {
  port: number;
  host: string;
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}

/** Prometheus' registered default for exporters of this kind ("the next free port from 9464"). */
export const DEFAULT_METRICS_PORT = 9464;

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error("DATABASE_URL must be a postgresql:// URL");
  }
  const workers = Number(env.WEB_CONCURRENCY?.trim() || 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`WEB_CONCURRENCY must be an integer from 1 to 64, got ${JSON.stringify(env.WEB_CONCURRENCY)}`);
  }
  return {
    workers,
    metrics: readMetricsConfig(env, port),
    corsOrigins: readCorsOrigins(env.CORS_ORIGINS),
    port,
    host: env.HOST?.trim() || "127.0.0.1",
    dataDir: path.resolve(env.DATA_DIR?.trim() || "./data"),
    databaseUrl,
    operatorToken: env.OPERATOR_TOKEN?.trim() || undefined,
    production: isProduction(env),
    shutdownGraceMs: milliseconds(env, "SHUTDOWN_GRACE_MS", 10_000),
    http: readHttpTimeouts(env),
  };
}

/** A duration setting in milliseconds: a whole number from 1 to `max`, or its default when unset. */
function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number, max = 600_000): number {
  const given = env[name]?.trim();
  if (!given) return fallback;
  const value = Number(given);
  if (!/^\d+$/.test(given) || value < 1 || value > max)
    throw new Error(`${name} must be a number of milliseconds from 1 to ${max}, got ${JSON.stringify(env[name])}`);
  return value;
}

export function readHttpTimeouts(env: NodeJS.ProcessEnv = process.env): HttpTimeouts {
  const timeouts = {
    headersTimeoutMs: milliseconds(env, "HTTP_HEADERS_TIMEOUT_MS", 10_000),
    requestTimeoutMs: milliseconds(env, "HTTP_REQUEST_TIMEOUT_MS", 30_000),
    keepAliveTimeoutMs: milliseconds(env, "HTTP_KEEP_ALIVE_TIMEOUT_MS", 5_000),
  };
  // node:http requires it: the headers are part of the request.
  if (timeouts.headersTimeoutMs > timeouts.requestTimeoutMs) throw new Error("HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS");
  return timeouts;
}

function readMetricsConfig(env: NodeJS.ProcessEnv, apiPort: number): MetricsConfig | undefined {
  const given = env.METRICS_PORT?.trim() || String(DEFAULT_METRICS_PORT);
  if (given.toLowerCase() === "off") return undefined;
  const port = Number(given);
  if (!/^\d+$/.test(given) || port > 65535) {
    throw new Error(`METRICS_PORT must be an integer from 0 to 65535 or "off", got ${JSON.stringify(env.METRICS_PORT)}`);
  }
  // One port cannot serve both: the second listener would fail with a less clear message.
  if (port !== 0 && port === apiPort) throw new Error(`METRICS_PORT must differ from PORT (${apiPort})`);
  return { port, host: env.METRICS_HOST?.trim() || "127.0.0.1", token: env.METRICS_TOKEN?.trim() || undefined };
}

/** Exact origins (scheme://host[:port]) or a single "*"; anything else is a configuration mistake, refused at start. */
function readCorsOrigins(value: string | undefined): string[] {
  const origins = (value ?? "")
    .split(",")
    .map((o) => o.trim().replace(/\/$/, ""))
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === "*") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {}
    if (!parsed || parsed.origin !== origin.toLowerCase() || !/^https?:$/.test(parsed.protocol)) {
      throw new Error(`CORS_ORIGINS must list origins like https://app.example.com (or be "*"), got ${JSON.stringify(origin)}`);
    }
  }
  if (origins.includes("*") && origins.length > 1) throw new Error('CORS_ORIGINS="*" cannot be combined with other origins');
  return origins.map((o) => (o === "*" ? o : new URL(o).origin));
}

/** NODE_ENV=production: unexpected errors are masked and the schema builder stays quiet about unused Prisma selections. */
export function isProduction(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === "production";
}

/** LOG_LEVEL (a pino level); by default info, warn under vitest (NODE_ENV=test) to keep test output readable. */
export function logLevel(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOG_LEVEL ?? (env.NODE_ENV === "test" ? "warn" : "info");
}

/** Request budgets per minute (README "Rate limits"). */
export interface RateLimitSettings {
  /** RATE_LIMIT_PER_KEY: requests per API key (or the operator token). */
  perKey: number;
  /** RATE_LIMIT_PER_ADDRESS: failed-authentication requests per client address. */
  perAddress: number;
  /** REDIS_URL: share the budgets across gateway processes through this Redis; undefined: in-process (or the cluster's primary). */
  redisUrl: string | undefined;
  /** RATE_LIMIT_NAMESPACE: prefix of the budget keys in Redis. */
  namespace: string;
}

export function rateLimitSettings(env: NodeJS.ProcessEnv = process.env): RateLimitSettings {
  return {
    perKey: Number(env.RATE_LIMIT_PER_KEY ?? 6000),
    perAddress: Number(env.RATE_LIMIT_PER_ADDRESS ?? 300),
    redisUrl: env.REDIS_URL || undefined,
    namespace: env.RATE_LIMIT_NAMESPACE || "gateway",
  };
}

/** What src/db/client.ts and src/db/sql.ts connect with. */
export interface DatabaseSettings {
  /** DATABASE_URL as prepared (the given server's, or the embedded database's socket); undefined before prepareDatabase. */
  url: string | undefined;
  /** DATABASE_POOL_SIZE: connections per process (default 10; 1 on the embedded database). */
  poolSize: number;
  /** Whether hot statements run as named prepared statements; off on the embedded database (DATABASE_NAMED_STATEMENTS=off, internal). */
  namedStatements: boolean;
  /** DATABASE_ACQUIRE_TIMEOUT_MS: how long a request waits for a connection (a new one or a free one of the pool) before it is a 503. */
  acquireTimeoutMs: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS: Postgres cancels a statement running longer (statement_timeout); the client gives up on the connection a little later. */
  statementTimeoutMs: number;
}

/** Read when the database client loads, not at start: prepareDatabase (or the test setup) sets them first. */
export function databaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  return {
    url: env.DATABASE_URL,
    poolSize: Number(env.DATABASE_POOL_SIZE ?? 10),
    namedStatements: env.DATABASE_NAMED_STATEMENTS !== "off",
    acquireTimeoutMs: milliseconds(env, "DATABASE_ACQUIRE_TIMEOUT_MS", 5_000),
    statementTimeoutMs: milliseconds(env, "DATABASE_STATEMENT_TIMEOUT_MS", 15_000),
  };
}

/**
 * Hands the prepared database to the client that loads afterwards (call it
 * before importing src/db/client.ts). Stored in the environment, as before
 * this module owned it: processes started from this one (cluster workers,
 * `tsx scripts/purge.ts` from a test) inherit the same settings, which on the
 * embedded database they need (one connection, no named statements).
 */
export function setDatabaseSettings(settings: { url?: string; poolSize?: number; namedStatements?: boolean }, env: NodeJS.ProcessEnv = process.env): void {
  if (settings.url !== undefined) env.DATABASE_URL = settings.url;
  if (settings.poolSize !== undefined) env.DATABASE_POOL_SIZE = String(settings.poolSize);
  if (settings.namedStatements !== undefined) env.DATABASE_NAMED_STATEMENTS = settings.namedStatements ? "on" : "off";
}

/**
 * The environment the primary gives each worker it forks (WEB_CONCURRENCY):
 * the operator token it settled once, and the worker's index (read back by
 * clusterWorkerIndex).
 */
export function clusterWorkerEnv(index: number, operatorToken: string): Record<string, string> {
  return { OPERATOR_TOKEN: operatorToken, GATEWAY_WORKER_INDEX: String(index) };
}

/** In a cluster worker: its index, 0 to WEB_CONCURRENCY - 1 (worker 0 runs the purge schedule). */
export function clusterWorkerIndex(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.GATEWAY_WORKER_INDEX ?? 0);
}

/** The event log and webhooks (README "Events and webhooks"). */
export interface EventSettings {
  /** EVENT_RETENTION_DAYS: events older than this are deleted by the hourly cleanup; at least 30 (DOMAIN.md). */
  retentionDays: number;
  /** WEBHOOK_ALLOW_INSECURE=true: endpoints may be http:// and loopback addresses (development and tests only). */
  webhookAllowInsecure: boolean;
  /** WEBHOOK_RETRY_DELAYS_MS: the wait before each retry of a failed delivery; after the last, the delivery is FAILED. */
  webhookRetryDelaysMs: number[];
}

/**
 * Retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: about 27.6
 * hours of trying (DOMAIN.md: at least 24), the schedule Standard Webhooks'
 * reference implementation uses.
 */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export const MIN_EVENT_RETENTION_DAYS = 30;

export function eventSettings(env: NodeJS.ProcessEnv = process.env): EventSettings {
  const given = env.EVENT_RETENTION_DAYS?.trim();
  const retentionDays = given ? Number(given) : MIN_EVENT_RETENTION_DAYS;
  if (!/^\d*$/.test(given ?? "") || retentionDays < MIN_EVENT_RETENTION_DAYS || retentionDays > 3650) {
    throw new Error(
      `EVENT_RETENTION_DAYS must be a whole number of days from ${MIN_EVENT_RETENTION_DAYS} to 3650, got ${JSON.stringify(env.EVENT_RETENTION_DAYS)}`,
    );
  }
  const insecure = env.WEBHOOK_ALLOW_INSECURE?.trim().toLowerCase();
  if (insecure && insecure !== "true" && insecure !== "false") {
    throw new Error(`WEBHOOK_ALLOW_INSECURE must be true or false, got ${JSON.stringify(env.WEBHOOK_ALLOW_INSECURE)}`);
  }
  const delays = env.WEBHOOK_RETRY_DELAYS_MS?.trim();
  const webhookRetryDelaysMs = delays ? delays.split(",").map((d) => Number(d.trim())) : DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
  if (!webhookRetryDelaysMs.length || webhookRetryDelaysMs.some((d) => !Number.isInteger(d) || d < 1 || d > 7 * 24 * 3600 * 1000)) {
    throw new Error(`WEBHOOK_RETRY_DELAYS_MS must be comma-separated milliseconds (each up to 7 days), got ${JSON.stringify(env.WEBHOOK_RETRY_DELAYS_MS)}`);
  }
  return { retentionDays, webhookAllowInsecure: insecure === "true", webhookRetryDelaysMs };
}
