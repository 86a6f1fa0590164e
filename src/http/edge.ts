import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { GraphQLError, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";

// The HTTP edge: status codes and `extensions.code` of every error response,
// whatever produced it (Yoga, graphql-armor, the argument rules, a plugin).
//
// GraphQL over HTTP: with `Accept: application/graphql-response+json` a
// response without `data` (the request failed before execution: parse,
// validation, variable or argument errors, limits) must be 4xx; with
// `application/json` such responses stay 200 (the spec's legacy behaviour).
// Yoga expresses that per error as `extensions.http = { spec: true, status }`
// (spec: honoured only for graphql-response+json) and drops `http` from the
// response; errors that get here without it (argumentRules'
// setResultAndStopExecution, graphql-jit's variable coercion) are given it
// here. Requests that are not well-formed GraphQL-over-HTTP requests
// (malformed JSON, no query) are 400 under either media type.

/** The code of an error that has none, from the HTTP status it carries. */
const CODE_BY_STATUS: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  406: "NOT_ACCEPTABLE",
  413: "REQUEST_ENTITY_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

/** graphql-js and Yoga's "Did you mean ..." hints: they name fields, types, arguments and enum values of the schema. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

interface HttpExtension {
  status?: number;
  spec?: boolean;
  headers?: Record<string, string>;
}
type Extensions = Record<string, unknown> & { code?: unknown; http?: HttpExtension; originalError?: unknown };

/**
 * Gives every error of a response a code and its status, strips what
 * production must not show (suggestions, the JSON parser's text).
 * Successful results are looked at for one property and left alone.
 */
export function useHttpEdge({ production }: { production: boolean }): Plugin {
  return {
    onResultProcess({ result }) {
      if (Array.isArray(result) || !result || typeof result !== "object" || !("errors" in result)) return;
      const errors = (result as { errors?: readonly GraphQLError[] }).errors;
      if (!errors?.length) return;
      const dataless = !("data" in result) || (result as { data?: unknown }).data === undefined;
      for (const error of errors) {
        if (!(error instanceof GraphQLError)) continue;
        // Yoga's own errors mutate their extensions the same way (useHTTPValidationError).
        const extensions = error.extensions as Extensions;
        const http = extensions.http;
        if (dataless && !http) {
          extensions.http = extensions.code === "INTERNAL_SERVER_ERROR" ? { status: 500 } : { spec: true, status: 400 };
        }
        if (typeof extensions.code !== "string") {
          const status = extensions.http?.status;
          extensions.code = (status && CODE_BY_STATUS[status]) || (status && status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
        }
        // A request that is not well-formed (malformed JSON, no query, a bad Content-Length) is 400 under any media type.
        if (extensions.code === "BAD_REQUEST" && http?.status === 400 && http.spec) extensions.http = { ...http, spec: false };
        if (production) {
          // The JSON parser's own words quote the body back; the message says enough.
          if ("originalError" in extensions) delete extensions.originalError;
          if (error.message.includes("Did you mean")) (error as { message: string }).message = error.message.replace(SUGGESTION, "");
        }
      }
    },
    onResponse({ response, setResponse, fetchAPI }) {
      // Yoga answers these with an empty body; give them the same error shape as every other refusal.
      const message = EMPTY_REFUSALS[response.status];
      if (!message || response.headers.has("content-type")) return;
      const headers = new fetchAPI.Headers(response.headers);
      headers.set("content-type", "application/json; charset=utf-8");
      headers.delete("content-length");
      const body = JSON.stringify({ errors: [{ message, extensions: { code: CODE_BY_STATUS[response.status] } }] });
      setResponse(new fetchAPI.Response(body, { status: response.status, headers }));
    },
  };
}

const EMPTY_REFUSALS: Record<number, string> = {
  404: "Not found.",
  406: "Not acceptable: accept application/json or application/graphql-response+json.",
  415: "Unsupported media type: send application/json.",
};

/** Yoga's CSRF prevention, its refusal (403) with a code saying what the request lacks. */
export function useCsrfPrevention(requestHeaders: string[]): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders }) as Plugin & { onRequestParse: NonNullable<Plugin["onRequestParse"]> };
  return {
    onRequestParse(payload) {
      try {
        return csrf.onRequestParse(payload);
      } catch (error) {
        if (error instanceof GraphQLError) (error.extensions as Extensions).code ??= "CSRF_HEADER_REQUIRED";
        throw error;
      }
    },
  };
}

/**
 * graphql-armor's options for one limit: its refusal reported as a validation
 * error (400 under graphql-response+json, like any validation error) with
 * `extensions.code = "QUERY_TOO_COMPLEX"` (the cost limit's code too) and
 * `extensions.limit`, instead of a thrown "Syntax Error" without a code. The
 * token limit stops the parser itself, so its error can only be given the code.
 */
export function armorRejection(limit: "depth" | "aliases" | "directives" | "tokens") {
  return {
    propagateOnRejection: limit === "tokens",
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const message = error.message.replace(/^Syntax Error: /, "");
        const extensions = { code: "QUERY_TOO_COMPLEX", limit };
        if (context) context.reportError(new GraphQLError(message, { extensions }));
        else {
          (error as { message: string }).message = message;
          Object.assign(error.extensions as Extensions, extensions);
        }
      },
    ],
  };
}
