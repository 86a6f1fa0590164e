// A webhook receiver on 127.0.0.1 (the only place test traffic may go): it
// records every request and answers with whatever `answer` says for it.
import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedHook {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with. */
  status: number;
}

export interface Receiver {
  url: string;
  received: ReceivedHook[];
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `answer(n, body)`: the status for the n-th request (from 1); 200 by default. */
export async function startReceiver(answer: (n: number, body: string) => number | { status: number; location?: string } = () => 200): Promise<Receiver> {
  const received: ReceivedHook[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const given = answer(received.length + 1, body);
      const { status, location } = typeof given === "number" ? { status: given, location: undefined } : given;
      received.push({ at: Date.now(), headers: request.headers, body, status });
      response.writeHead(status, location ? { location } : {});
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    async waitFor(count, timeoutMs = 15_000) {
      const started = Date.now();
      while (received.length < count) {
        if (Date.now() - started > timeoutMs) throw new Error(`${received.length} of ${count} webhook requests within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
