import { GraphQLError } from "graphql";
import { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { rateLimitSettings } from "../config.js";
import { logger } from "../observability/logger.js";

export interface RateLimitOptions {
  /** Requests a credential may make per window. */
  perKey: number;
  /** Requests without a valid credential an address may make per window. */
  perAddress: number;
  windowSeconds: number;
  /** Share budgets across gateway processes through this Redis. */
  redisUrl?: string;
  /** Prefix of the budget keys in Redis (several deployments may share one Redis). */
  namespace?: string;
  /** In a cluster worker without Redis, keep budgets in the primary (over IPC) so workers share them. */
  clusterWorker?: boolean;
}

/** The server's budgets: RATE_LIMIT_PER_KEY, RATE_LIMIT_PER_ADDRESS, REDIS_URL, RATE_LIMIT_NAMESPACE (config.ts), per minute. */
export const DEFAULT_RATE_LIMITS: RateLimitOptions = { ...rateLimitSettings(), windowSeconds: 60 };

export interface RequestLimiter {
  /** Throws a 429 RATE_LIMITED error (with Retry-After) once `key`'s budget is spent. */
  consume(kind: "key" | "address", key: string): Promise<void>;
  /** With REDIS_URL: whether Redis is connected now (readiness); undefined without Redis. */
  redisReady(): boolean | undefined;
  close(): Promise<void>;
}

/**
 * Fixed-window request budgets (rate-limiter-flexible): in-process by
 * default, in the cluster's primary for the workers of one server
 * (WEB_CONCURRENCY), in Redis when REDIS_URL is set so that every gateway
 * process of a deployment shares one budget per key.
 */
export function createRequestLimiter(options: RateLimitOptions = DEFAULT_RATE_LIMITS): RequestLimiter {
  // While the connection is not "ready" (starting, or Redis is away) the
  // Redis limiter hands each request straight to the in-process budget
  // (rejectIfRedisNotReady), so an outage adds no wait to a request.
  // commandTimeout bounds the other case, a connection that looks up but
  // does not answer: the command fails after it and the in-process budget decides.
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 500 }) : undefined;
  if (redis) reportRedisOutages(redis);
  const make = (points: number, keyPrefix: string): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration: options.windowSeconds, keyPrefix });
    if (!redis) {
      return options.clusterWorker ? new RateLimiterCluster({ points, duration: options.windowSeconds, keyPrefix, timeoutMs: 3000 }) : memory;
    }
    // If Redis is unreachable, fall back to the in-process budget rather than failing requests.
    return new RateLimiterRedis({
      storeClient: redis,
      points,
      duration: options.windowSeconds,
      keyPrefix,
      insuranceLimiter: memory,
      rejectIfRedisNotReady: true,
    });
  };
  const ns = options.namespace ?? "gateway";
  const limiters = { key: make(options.perKey, `${ns}:key`), address: make(options.perAddress, `${ns}:addr`) };
  return {
    async consume(kind, key) {
      try {
        await limiters[kind].consume(key);
      } catch (result) {
        if (!(result instanceof RateLimiterRes)) throw result;
        const retryAfter = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
        throw new GraphQLError(`Too many requests; retry after ${retryAfter} seconds`, {
          extensions: { code: "RATE_LIMITED", retryAfterSeconds: retryAfter, http: { status: 429, headers: { "Retry-After": String(retryAfter) } } },
        });
      }
    },
    redisReady: () => (redis ? redis.status === "ready" : undefined),
    async close() {
      redis?.disconnect();
    },
  };
}

/**
 * One line when Redis goes away and one when it is back, not one per request
 * or per reconnection attempt: while it is away each process keeps its own
 * budgets (the insurance limiter), and the shared ones resume on reconnection.
 */
function reportRedisOutages(redis: Redis): void {
  let down = false;
  const markDown = (code?: string) => {
    // "close" also follows our own disconnect at shutdown: not an outage.
    if (down || redis.status === "end") return;
    down = true;
    logger.warn({ code }, "Redis is unreachable: request budgets are kept per process until it is back");
  };
  redis.on("error", (error: NodeJS.ErrnoException) => markDown(error.code));
  redis.on("close", () => markDown());
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info("Redis is reachable again: request budgets are shared again");
  });
}
