import { randomUUID } from "node:crypto";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { Counter } from "prom-client";
import type { Authenticated } from "./auth/authenticate.js";
import type { Context } from "./context.js";
import { isDatabaseUnavailable, serviceUnavailable } from "./db/availability.js";
import { useRequestBodyLimit } from "./http/bodyLimit.js";
import { authenticateCaller } from "./http/callers.js";
import { useCompiledExecution } from "./http/compiledExecution.js";
import { useCors } from "./http/cors.js";
import { armorRejection, useCsrfPrevention, useHttpEdge } from "./http/edge.js";
import { graphiqlOptions } from "./http/graphiql.js";
import { useGraphiQLDelivery } from "./http/graphiqlDelivery.js";
import { useReadinessCheck } from "./http/health.js";
import { createRequestLimiter, DEFAULT_RATE_LIMITS, type RateLimitOptions } from "./http/rateLimit.js";
import { useUsageCsvExport } from "./http/usageCsv.js";
import { logger } from "./observability/logger.js";
import { boundedCode, createGatewayMetrics } from "./observability/metrics.js";
import { QUERY_LIMITS, useArgumentRules } from "./schema/argumentRules.js";
import { schema } from "./schema/index.js";
import { audienceOf, createSchemaSelector, useRoleSchemaErrors } from "./schema/roleSchemas.js";

// Built once per process: each role is served the schema it may use, and a
// restricted key its role's less what its permissions do not cover.
const schemas = createSchemaSelector(schema);

export interface AppOptions {
  operatorToken: string;
  production: boolean;
  rateLimits?: RateLimitOptions;
  /** A worker of a cluster (server.ts): without Redis, request budgets are kept by the primary. */
  clusterWorker?: boolean;
  /** Origins browsers may call from (config CORS_ORIGINS): exact origins or ["*"]; none by default. */
  corsOrigins?: readonly string[];
}

/** Largest request body accepted (bytes); larger ones get 413. */
export const MAX_REQUEST_BODY_BYTES = 1_000_000;

/** The gateway as a fetch-style app: `server.ts` listens with it, tests call `app.fetch`. */
export function createApp({ operatorToken, production, rateLimits = DEFAULT_RATE_LIMITS, clusterWorker = false, corsOrigins = [] }: AppOptions) {
  const limiter = createRequestLimiter({ ...rateLimits, clusterWorker });
  // Who is calling is settled per request before parsing and validation, so
  // an anonymous caller learns nothing about the schema, and rate limits
  // apply to every request.
  const callers = new WeakMap<Request, Authenticated>();
  const metrics = createGatewayMetrics((request) => callers.get(request)?.viewer.role ?? "anonymous");
  // Set by beginShutdown (server.ts, on SIGTERM): readiness answers 503 from then on.
  let stopping = false;

  const yoga = createYoga<{ req?: { socket?: { remoteAddress?: string } } }, Context>({
    schema: async ({ request, req }): Promise<GraphQLSchema> => {
      const caller = await authenticateCaller(request, req?.socket?.remoteAddress, { operatorToken, limiter });
      callers.set(request, caller);
      return schemas.forAudience(audienceOf(caller.viewer));
    },
    context: ({ request }): Context => {
      const { viewer, account } = callers.get(request)!;
      return { viewer, requestId: requestIdOf(request), typedErrors: [], callerAccount: account };
    },
    graphqlEndpoint: "/graphql",
    healthCheckEndpoint: "/health",
    landingPage: false,
    // useCors instead: Yoga's default reflects any origin and allows credentials.
    cors: false,
    batching: false,
    // Checked by useRequestBodyLimit instead (src/http/bodyLimit.ts).
    maxRequestBodySize: false,
    // GraphiQL with its assets embedded: it works with no internet access (no CDN).
    renderGraphiQL,
    graphiql: graphiqlOptions,
    maskedErrors: { isDev: !production },
    logging: false,
    plugins: [
      useReadinessCheck({ redisReady: () => limiter.redisReady(), stopping: () => stopping }),
      useRequestBodyLimit(MAX_REQUEST_BODY_BYTES),
      useCors(corsOrigins),
      useUsageCsvExport({ operatorToken, limiter }),
      useCsrfPrevention(["x-graphql-yoga-csrf", "authorization"]),
      useHttpEdge({ production }),
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth, flattenFragments: true, ...armorRejection("depth") },
        maxAliases: { n: QUERY_LIMITS.maxAliases, ...armorRejection("aliases") },
        maxTokens: { n: QUERY_LIMITS.maxTokens, ...armorRejection("tokens") },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives, ...armorRejection("directives") },
        // Cost is computed with page sizes by useArgumentRules instead.
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: production },
      }),
      useRoleSchemaErrors(schemas, (request) => {
        const caller = callers.get(request);
        return caller && audienceOf(caller.viewer);
      }),
      useArgumentRules(schemas),
      useCompiledExecution(),
      useUnexpectedErrorReporting(metrics.errorsByCode),
      ...metrics.plugins,
      // Last: it rebuilds the GraphiQL page's response from the headers the others set.
      useGraphiQLDelivery(),
    ],
  });
  return Object.assign(yoga, {
    /** The process is stopping: readiness fails from now on, so load balancers stop sending traffic. */
    beginShutdown: () => {
      stopping = true;
    },
    close: () => limiter.close(),
    /** Scraped by the metrics listener (src/observability/metricsServer.ts), not served by the app. */
    metricsRegistry: metrics.registry,
  });
}

const requestIds = new WeakMap<Request, string>();

/** The request's id: the caller's X-Request-Id when it is sane, else a new UUID; echoed in the response. */
function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const given = request.headers.get("x-request-id");
    id = given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/**
 * Unexpected errors (bugs, failing statements) are logged with the request id
 * and replaced by a bare INTERNAL_SERVER_ERROR carrying that id, so the client
 * can quote it and no ORM or SQL text ever leaves the server. A database that
 * cannot be reached is not a bug: that is SERVICE_UNAVAILABLE, HTTP 503 with
 * Retry-After (db/availability.ts).
 */
export function useUnexpectedErrorReporting(errorsByCode: Counter): Plugin<Context> {
  const codeLabel = boundedCode();
  const count = (code: string) => errorsByCode.inc({ code: codeLabel(code) });
  return {
    onExecute({ args }) {
      const context = args.contextValue as Context;
      return {
        onExecuteDone({ result, setResult }) {
          if (!("errors" in result) && !("data" in result)) return;
          const single = result as { errors?: readonly GraphQLError[]; data?: Record<string, unknown> | null };
          for (const code of context.typedErrors) count(code);
          if (!single.errors?.length) return;
          const errors = single.errors.map((error) => {
            const expected = error.extensions?.code && error.extensions.code !== "INTERNAL_SERVER_ERROR";
            if (expected || (!error.originalError && error.extensions?.code)) {
              count(String(error.extensions.code));
              return error;
            }
            if (!error.originalError && !error.path) return error;
            if (isDatabaseUnavailable(error.originalError)) {
              count("SERVICE_UNAVAILABLE");
              const unavailable = serviceUnavailable();
              return new GraphQLError(unavailable.message, { nodes: error.nodes, path: error.path, extensions: unavailable.extensions });
            }
            count("INTERNAL_SERVER_ERROR");
            logger.error({ requestId: context.requestId, path: error.path, err: error.originalError ?? error }, "unexpected error");
            return new GraphQLError("Unexpected error.", {
              nodes: error.nodes,
              path: error.path,
              extensions: { code: "INTERNAL_SERVER_ERROR", requestId: context.requestId },
            });
          });
          setResult({ ...single, errors } as never);
        },
      };
    },
    onResponse({ request, response }) {
      response.headers.set("x-request-id", requestIdOf(request));
    },
  };
}

export type App = ReturnType<typeof createApp>;
