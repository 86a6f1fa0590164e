// GraphQL over real HTTP to a gateway process (test/helpers/server.ts), for
// the tests that observe a whole process: status codes, headers, refusals.
import type { TadaDocumentNode } from "gql.tada";
import { print } from "graphql";
import type { GqlError } from "./app.js";

export interface RemoteResponse<R> {
  status: number;
  headers: Headers;
  body: { data?: R; errors?: GqlError[] };
}

/** Posts one document to `${baseUrl}/graphql` as `token`; a refused or reset connection rejects. */
export async function postGraphQL<R, V>(
  baseUrl: string,
  token: string,
  document: TadaDocumentNode<R, V>,
  variables: V,
  signal?: AbortSignal,
): Promise<RemoteResponse<R>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
    signal,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as RemoteResponse<R>["body"] };
}

/** Polls `until` every `everyMs` until it returns true; resolves with the milliseconds it took, or rejects after `timeoutMs`. */
export async function waitFor(until: () => Promise<boolean>, { timeoutMs = 30_000, everyMs = 100 } = {}): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await until().catch(() => false)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** The readiness status code (GET /health/ready), or 0 when the connection fails. */
export async function readiness(baseUrl: string): Promise<number> {
  try {
    const response = await fetch(`${baseUrl}/health/ready`);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
