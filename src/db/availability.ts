import { GraphQLError } from "graphql";

// Telling "the database is away" from every other failure, so that a request
// which cannot reach it is an honest HTTP 503 SERVICE_UNAVAILABLE with
// Retry-After (the client should retry, here or on another instance), never a
// 500 "Unexpected error." that reads as a bug.
//
// The failure arrives in several wrappings: pg's own errors (a refused or
// reset socket, "Connection terminated", the pool's acquire timeout, a
// statement cancelled by statement_timeout), and the same errors inside
// Prisma's (P1001, P1017, P2024, a driver-adapter error carrying the pg
// error's kind or SQLSTATE). The check walks `cause`, `originalError` and
// Prisma's `meta.driverAdapterError` a few levels deep.

/** Seconds a client is told to wait (Retry-After) before trying again. */
export const RETRY_AFTER_SECONDS = 2;

/** Socket errors of a connection that cannot be made or was lost. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ENOENT"]);

/**
 * SQLSTATEs that mean the server cannot serve now, not that the statement is
 * wrong: class 08 (connection exception), 53300 too_many_connections,
 * 57P01-57P03 (the server shutting down or starting), 57014 query_canceled
 * (statement_timeout: the database is too slow to answer in time).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53300|57P0[123]|57014)$/;

/** Prisma's codes for an unreachable server, a closed connection and the pool's timeout. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017", "P2024"]);

/** Driver-adapter error kinds (Prisma's adapter-pg) for the same. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

/** pg's messages for a lost connection or the pool's acquire timeout (they carry no code). */
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused|Query read timeout|connection is closed|Can't reach database server/i;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 6) return false;
  const e = error as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; originalError?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof e.code === "string" && (SOCKET_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code) || PRISMA_CODES.has(e.code))) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === "string" && PG_MESSAGES.test(e.message)) return true;
  return [e.cause, e.originalError, e.meta?.driverAdapterError].some((inner) => inner !== error && isDatabaseUnavailable(inner, depth + 1));
}

/** The error a request gets while the database is away: HTTP 503, Retry-After, and a message that says what to do. */
export function serviceUnavailable(reason = "The database is unavailable"): GraphQLError {
  return new GraphQLError(`${reason}; retry after ${RETRY_AFTER_SECONDS} seconds`, {
    extensions: {
      code: "SERVICE_UNAVAILABLE",
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      http: { status: 503, headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } },
    },
  });
}
