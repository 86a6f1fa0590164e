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
    production: env.NODE_ENV === "production",
  };
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
