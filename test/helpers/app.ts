import { randomBytes } from "node:crypto";
import type { TadaDocumentNode } from "gql.tada";
import { print } from "graphql";
import { statementCounter } from "../../src/db/client.js";
import { createApp } from "../../src/yoga.js";

export const OPERATOR_TOKEN = `op_test_${randomBytes(16).toString("hex")}`;

/** The real gateway, called through its HTTP layer (yoga.fetch): headers, status codes and all. */
export const app = createApp({ operatorToken: OPERATOR_TOKEN, production: false });

/** A GraphQL error as the gateway sends it. */
export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GqlResponse<T = unknown> {
  status: number;
  body: { data?: T; errors?: GqlError[] };
  headers: Headers;
}

/**
 * A request's document: a typed document from `graphql()` (test/helpers/graphql.ts),
 * whose result and variables types come from the schema, or a plain string
 * for documents built at run time, whose result type the caller states.
 */
export type Document<R, V> = string | TadaDocumentNode<R, V>;

interface RequestOptions<V> {
  token?: string | null;
  variables?: V;
  /** Sent as `Act-As-Account`: a manager key (or the operator token) acting as this sub-account. */
  actAs?: string;
  /** Any other request headers. */
  headers?: Record<string, string>;
}

/** Sends one GraphQL request as `token` (omit it for an anonymous request). */
export async function gql<R = unknown, V = Record<string, unknown>>(query: Document<R, V>, options: RequestOptions<V> = {}): Promise<GqlResponse<R>> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.actAs !== undefined) headers["act-as-account"] = options.actAs;
  const response = await app.fetch("http://gateway.test/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query: typeof query === "string" ? query : print(query), variables: options.variables ?? {} }),
  });
  return { status: response.status, body: (await response.json()) as GqlResponse<R>["body"], headers: response.headers };
}

/** Like gql, but fails the test on any GraphQL error; returns `data`. */
export async function gqlData<R = unknown, V = Record<string, unknown>>(query: Document<R, V>, options: RequestOptions<V> = {}): Promise<R> {
  const res = await gql<R, V>(query, options);
  if (res.body.errors?.length || res.status !== 200) {
    throw new Error(`GraphQL request failed (${res.status}): ${JSON.stringify(res.body.errors)}`);
  }
  return res.body.data as R;
}

/** Counts the SQL statements this process sends while `work` runs. */
export async function countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = statementCounter.count;
  const result = await work();
  return { result, statements: statementCounter.count - before };
}

/** The error codes of a response, for terse assertions. */
export const errorCodes = (res: GqlResponse) => (res.body.errors ?? []).map((e) => e.extensions?.code);

/** How many results of each `__typename` (mutation result unions): `{ UsageRecorded: 58, InsufficientFundsError: 2 }`. */
export function tallyTypenames(results: readonly { __typename: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { __typename } of results) counts[__typename] = (counts[__typename] ?? 0) + 1;
  return counts;
}

/** The mutation's result object (the only field of `data`), failing on GraphQL errors. */
export function result<R>(res: GqlResponse<R>): R[keyof R] {
  if (res.status !== 200 || res.body.errors?.length) throw new Error(`GraphQL request failed (${res.status}): ${JSON.stringify(res.body.errors)}`);
  return Object.values(res.body.data as object)[0] as R[keyof R];
}
