// A GraphQL-over-SSE client for the tests of Subscription.events: posts a
// subscription with `Accept: text/event-stream` to a gateway (the in-process
// app, or a server process over HTTP) and collects its `next` payloads.
import type { TadaDocumentNode } from "gql.tada";
import { print } from "graphql";
import { app, type GqlError } from "./app.js";

export interface SseSubscription<R> {
  /** Every `next` payload so far, in order. */
  received: { data?: R; errors?: GqlError[] }[];
  /** The HTTP status of the response (once it arrived). */
  status: Promise<number>;
  /** Resolves when `count` payloads have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  /** Drops the connection, as a client that goes away. */
  close(): void;
}

export function subscribe<R, V>(document: TadaDocumentNode<R, V>, variables: V, token: string, baseUrl?: string): SseSubscription<R> {
  const controller = new AbortController();
  const received: SseSubscription<R>["received"] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const request = {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
    signal: controller.signal,
  };
  const response = baseUrl ? fetch(`${baseUrl}/graphql`, request) : Promise.resolve(app.fetch("http://gateway.test/graphql", request));
  let reader: ReadableStreamDefaultReader<string> | undefined;
  let closed = false;
  const ended = (async () => {
    const res = await response;
    if (!res.body || closed) return;
    reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || closed) return;
        buffer += value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
          const lines = message.split("\n");
          const event = lines
            .find((l) => l.startsWith("event:"))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trim())
            .join("\n");
          if (event === "next" || (!event && data)) received.push(JSON.parse(data));
          for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    received,
    status: response.then((r) => r.status),
    ended,
    close: () => {
      // Abort the request (a server over HTTP) and cancel the body (the in-process app, where cancelling ends the stream).
      closed = true;
      controller.abort();
      reader?.cancel().catch(() => {});
    },
    waitFor(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${received.length} of ${count} events within ${timeoutMs} ms: ${JSON.stringify(received)}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}
