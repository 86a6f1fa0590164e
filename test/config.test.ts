// The environment's parsing (src/config.ts), each function given a plain
// object: the test worker's own process.env points at its database and must
// not change under the other test files.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { clusterWorkerIndex, databaseSettings, isProduction, logLevel, rateLimitSettings, readConfig, setDatabaseSettings } from "../src/config.js";

describe("readConfig", () => {
  it("applies README's defaults to an empty environment", () => {
    const config = readConfig({});
    expect(config).toMatchObject({ port: 4000, host: "127.0.0.1", databaseUrl: undefined, operatorToken: undefined, production: false, workers: 1 });
    expect(config.dataDir).toBe(path.resolve("./data"));
  });

  it("trims values and treats blank ones as unset", () => {
    const config = readConfig({ PORT: "0", HOST: " 0.0.0.0 ", DATABASE_URL: "  ", OPERATOR_TOKEN: " op ", WEB_CONCURRENCY: " 4 ", NODE_ENV: "production" });
    expect(config).toMatchObject({ port: 0, host: "0.0.0.0", databaseUrl: undefined, operatorToken: "op", workers: 4, production: true });
  });

  it("refuses invalid values with a line naming the variable and the value", () => {
    expect(() => readConfig({ PORT: "80a" })).toThrow('PORT must be an integer from 0 to 65535, got "80a"');
    expect(() => readConfig({ PORT: "65536" })).toThrow(/^PORT must be an integer/);
    expect(() => readConfig({ WEB_CONCURRENCY: "0" })).toThrow('WEB_CONCURRENCY must be an integer from 1 to 64, got "0"');
    expect(() => readConfig({ DATABASE_URL: "mysql://db/app" })).toThrow("DATABASE_URL must be a postgresql:// URL");
    expect(() => readConfig({ SHUTDOWN_GRACE_MS: "10s" })).toThrow('SHUTDOWN_GRACE_MS must be a number of milliseconds from 1 to 600000, got "10s"');
    expect(() => readConfig({ HTTP_HEADERS_TIMEOUT_MS: "0" })).toThrow(/^HTTP_HEADERS_TIMEOUT_MS must be a number of milliseconds/);
    expect(() => readConfig({ HTTP_HEADERS_TIMEOUT_MS: "40000" })).toThrow("HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS");
    expect(() => databaseSettings({ DATABASE_STATEMENT_TIMEOUT_MS: "-1" })).toThrow(/^DATABASE_STATEMENT_TIMEOUT_MS must be a number of milliseconds/);
  });

  it("bounds time: shutdown grace, slow and idle clients, the wait for a connection, statements", () => {
    expect(readConfig({})).toMatchObject({ shutdownGraceMs: 10_000, http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 } });
    const given = readConfig({
      SHUTDOWN_GRACE_MS: "2500",
      HTTP_HEADERS_TIMEOUT_MS: "2000",
      HTTP_REQUEST_TIMEOUT_MS: "4000",
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "1000",
    });
    expect(given).toMatchObject({ shutdownGraceMs: 2500, http: { headersTimeoutMs: 2000, requestTimeoutMs: 4000, keepAliveTimeoutMs: 1000 } });
    expect(databaseSettings({ DATABASE_ACQUIRE_TIMEOUT_MS: "1000", DATABASE_STATEMENT_TIMEOUT_MS: "3000" })).toMatchObject({
      acquireTimeoutMs: 1000,
      statementTimeoutMs: 3000,
    });
  });
});

describe("settings read at first use", () => {
  it("database: pool of 10 and named statements unless told otherwise", () => {
    expect(databaseSettings({})).toEqual({ url: undefined, poolSize: 10, namedStatements: true, acquireTimeoutMs: 5000, statementTimeoutMs: 15000 });
    expect(databaseSettings({ DATABASE_URL: "postgresql://db/app", DATABASE_POOL_SIZE: "3", DATABASE_NAMED_STATEMENTS: "off" })).toEqual({
      url: "postgresql://db/app",
      poolSize: 3,
      namedStatements: false,
      acquireTimeoutMs: 5000,
      statementTimeoutMs: 15000,
    });
  });

  it("setDatabaseSettings hands a prepared database to databaseSettings, changing only what it is given", () => {
    const env: NodeJS.ProcessEnv = { DATABASE_POOL_SIZE: "7" };
    setDatabaseSettings({ url: "postgresql://prepared/app" }, env);
    expect(databaseSettings(env)).toEqual({
      url: "postgresql://prepared/app",
      poolSize: 7,
      namedStatements: true,
      acquireTimeoutMs: 5000,
      statementTimeoutMs: 15000,
    });
    setDatabaseSettings({ poolSize: 1, namedStatements: false }, env);
    expect(databaseSettings(env)).toEqual({
      url: "postgresql://prepared/app",
      poolSize: 1,
      namedStatements: false,
      acquireTimeoutMs: 5000,
      statementTimeoutMs: 15000,
    });
    // Stored as the variables themselves, so a process started from this one inherits them.
    expect(env).toEqual({ DATABASE_URL: "postgresql://prepared/app", DATABASE_POOL_SIZE: "1", DATABASE_NAMED_STATEMENTS: "off" });
  });

  it("rate limits, log level, production, worker index", () => {
    expect(rateLimitSettings({})).toEqual({ perKey: 6000, perAddress: 300, redisUrl: undefined, namespace: "gateway" });
    expect(rateLimitSettings({ RATE_LIMIT_PER_KEY: "10", RATE_LIMIT_PER_ADDRESS: "2", REDIS_URL: "", RATE_LIMIT_NAMESPACE: "eu" })).toEqual({
      perKey: 10,
      perAddress: 2,
      redisUrl: undefined,
      namespace: "eu",
    });
    expect(logLevel({})).toBe("info");
    expect(logLevel({ NODE_ENV: "test" })).toBe("warn");
    expect(logLevel({ NODE_ENV: "test", LOG_LEVEL: "debug" })).toBe("debug");
    expect(isProduction({ NODE_ENV: "production" })).toBe(true);
    expect(isProduction({ NODE_ENV: "development" })).toBe(false);
    expect(clusterWorkerIndex({})).toBe(0);
    expect(clusterWorkerIndex({ GATEWAY_WORKER_INDEX: "2" })).toBe(2);
  });
});
