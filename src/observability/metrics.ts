import { usePrometheus } from "@graphql-yoga/plugin-prometheus";
import type { Plugin } from "graphql-yoga";
import { Counter, Histogram, Registry } from "prom-client";

// The gateway's Prometheus metrics. Every label value comes from a closed
// set the server chooses (operation type, role, status code, phase, error
// code): nothing a client sends (URL, query string, operation name, document,
// variables, aliases) may become a label, because a label value is both
// readable by whoever scrapes and a new series for every distinct value (2000
// client-chosen operation names made a 52 MB scrape taking 1.3 s).
//
// The metrics are served by their own listener (metricsServer.ts), never on
// the API port.

export interface GatewayMetrics {
  registry: Registry;
  /** gateway_graphql_errors_total{code}: GraphQL errors and typed mutation errors returned. */
  errorsByCode: Counter;
  plugins: Plugin[];
}

/** The role label of a request: who the schema factory authenticated, or "anonymous". */
export type RoleOf = (request: Request) => string;

export function createGatewayMetrics(roleOf: RoleOf): GatewayMetrics {
  const registry = new Registry();
  const errorsByCode = new Counter({
    name: "gateway_graphql_errors_total",
    help: "GraphQL errors and typed mutation errors returned, by code.",
    labelNames: ["code"],
    registers: [registry],
  });
  const plugins: Plugin[] = [
    useHttpDuration(registry, roleOf),
    usePrometheus({
      // Served by the metrics listener instead: /metrics on the API port is an unknown path (404).
      endpoint: false,
      registry,
      // The operation name is the client's text, and an error's path holds its aliases.
      labels: { operationName: false, path: false },
      // Every metric named: the plugin's defaults also include a summary
      // (a quantile sketch updated on every request), a walk of every
      // document with TypeInfo to count deprecated fields (the schema has
      // none) and a schema-change counter (each request sets its role's
      // schema), which cost more than the rest together.
      metrics: {
        // Replaced by useHttpDuration: the plugin's has the URL (query string and all) as a label.
        graphql_yoga_http_duration: false,
        graphql_envelop_request: true,
        graphql_envelop_request_duration: true,
        graphql_envelop_phase_parse: true,
        graphql_envelop_phase_validate: true,
        graphql_envelop_phase_context: true,
        graphql_envelop_phase_execute: true,
        graphql_envelop_error_result: true,
        graphql_envelop_request_time_summary: false,
        graphql_envelop_deprecated_field: false,
        graphql_envelop_schema_change: false,
        graphql_envelop_phase_subscribe: false,
        graphql_envelop_execute_resolver: false,
      },
    }) as Plugin,
  ];
  return { registry, errorsByCode, plugins };
}

const METHODS = new Set(["GET", "POST", "OPTIONS", "HEAD"]);
const OPERATION_TYPES = new Set(["query", "mutation", "subscription"]);

/**
 * graphql_yoga_http_duration{method,route,statusCode,operationType,role}: every
 * response of the GraphQL endpoint, refusals included (401, 413, 429 never
 * reach parsing, where the plugin's own histogram starts).
 */
function useHttpDuration(registry: Registry, roleOf: RoleOf): Plugin {
  const histogram = new Histogram({
    name: "graphql_yoga_http_duration",
    help: "Time spent on HTTP requests, from the request to the response's headers.",
    labelNames: ["method", "route", "statusCode", "operationType", "role"],
    registers: [registry],
  });
  const startedAt = new WeakMap<Request, number>();
  const operationTypes = new WeakMap<Request, string>();
  return {
    onRequest({ request }) {
      startedAt.set(request, performance.now());
    },
    onParse({ context }) {
      return ({ result }) => {
        const request = (context as { request?: Request }).request;
        if (!request || !result || result instanceof Error) return;
        // Yoga's requests have one operation (or name the one to run); its type is a closed set either way.
        const first = result.definitions.find((d: { kind: string }) => d.kind === "OperationDefinition") as { operation?: string } | undefined;
        if (first?.operation) operationTypes.set(request, first.operation);
      };
    },
    onResponse({ request, response }) {
      const start = startedAt.get(request);
      if (start === undefined) return;
      const type = operationTypes.get(request);
      histogram.observe(
        {
          method: METHODS.has(request.method) ? request.method : "OTHER",
          route: routeOf(request.url),
          statusCode: response.status,
          operationType: type && OPERATION_TYPES.has(type) ? type : "none",
          role: roleOf(request),
        },
        (performance.now() - start) / 1000,
      );
    },
  };
}

/** "/graphql" or "other", from the URL's path without parsing the whole URL (this runs for every request). */
function routeOf(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0) return "other";
  const end = url.indexOf("?", pathStart);
  const path = end < 0 ? url.slice(pathStart) : url.slice(pathStart, end);
  return path === "/graphql" || path === "/graphql/" ? "/graphql" : "other";
}

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Distinct error codes counted before any further ones are counted as OTHER. */
const MAX_CODES = 100;

/**
 * An error code as a label value: codes are the server's own, but the set is
 * bounded here as well, so that no future error carrying outside text (a
 * code copied from an upstream or a client) can grow the label set.
 */
export function boundedCode(): (code: string) => string {
  const seen = new Set<string>();
  return (code) => {
    if (seen.has(code)) return code;
    if (!CODE.test(code) || seen.size >= MAX_CODES) return "OTHER";
    seen.add(code);
    return code;
  };
}
