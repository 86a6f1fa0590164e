// Slow and idle clients are bounded (issue 15): a slowloris crowd (many
// sockets sending their headers a byte at a time) and bodies trickled at one
// byte a second do not keep a normal client from being served, and the server
// cuts them at HTTP_HEADERS_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS.
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { killServers, startServer } from "../helpers/server.js";

afterAll(killServers);

const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 4_000;

/** A socket that sends `text` one byte every `everyMs`; resolves with when the server closed it and what it answered. */
function trickle(port: number, text: string, everyMs: number): { closed: Promise<{ afterMs: number; answer: string }> } {
  const socket = net.connect(port, "127.0.0.1");
  const opened = Date.now();
  let answer = "";
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < text.length && !socket.destroyed) socket.write(text[sent++]!);
  }, everyMs);
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => (answer += chunk));
  socket.on("error", () => {});
  return {
    closed: new Promise((resolve) =>
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ afterMs: Date.now() - opened, answer });
      }),
    ),
  };
}

async function timedQuery(baseUrl: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}` },
    body: JSON.stringify({ query: "{ viewer { role } }" }),
  });
  expect(await response.json()).toEqual({ data: { viewer: { role: "OPERATOR" } } });
  return performance.now() - started;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

describe("slow and idle clients", () => {
  it("a slowloris crowd and trickled bodies are cut at their timeouts while a normal client is served", async () => {
    const server = await startServer({
      OPERATOR_TOKEN,
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      RATE_LIMIT_PER_KEY: "100000",
    });
    const baseline: number[] = [];
    for (let i = 0; i < 20; i++) baseline.push(await timedQuery(server.baseUrl));

    // 200 sockets sending headers a byte every 100 ms: they would need minutes to finish.
    const slowHeaders = Array.from({ length: 200 }, () =>
      trickle(server.port, `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"a".repeat(2000)}\r\n\r\n`, 100),
    );
    // 20 requests whose headers arrive at once and whose body comes at 1 byte/s.
    const body = JSON.stringify({ query: "{ viewer { role } }" });
    const slowBodies = Array.from({ length: 20 }, () => {
      const headers = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n`;
      const socket = net.connect(server.port, "127.0.0.1", () => socket.write(headers));
      const opened = Date.now();
      let answer = "";
      let sent = 0;
      const timer = setInterval(() => sent < body.length && !socket.destroyed && socket.write(body[sent++]!), 1000);
      socket.setEncoding("utf8");
      socket.on("data", (chunk) => (answer += chunk));
      socket.on("error", () => {});
      return new Promise<{ afterMs: number; answer: string }>((resolve) =>
        socket.on("close", () => {
          clearInterval(timer);
          resolve({ afterMs: Date.now() - opened, answer });
        }),
      );
    });

    // Meanwhile the normal client goes on being served.
    const underAttack: number[] = [];
    for (let i = 0; i < 40; i++) underAttack.push(await timedQuery(server.baseUrl));

    const headerCuts = await Promise.all(slowHeaders.map((s) => s.closed));
    const bodyCuts = await Promise.all(slowBodies);
    // node:http answers an incomplete request at its timeout with 408 and closes the socket;
    // the connection check runs every second, so a cut comes within a second or two of its bound.
    for (const cut of headerCuts) expect(cut.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 3_000);
    for (const cut of bodyCuts) {
      expect(cut.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
      expect(cut.answer).toMatch(/^HTTP\/1\.1 408/);
    }
    // Not a benchmark: a generous bound that fails only if the crowd starved the normal client.
    expect(percentile(underAttack, 99)).toBeLessThan(Math.max(1_000, percentile(baseline, 99) * 10));
    console.log(
      `slow clients: normal client p50 ${percentile(baseline, 50).toFixed(1)} ms / p99 ${percentile(baseline, 99).toFixed(1)} ms alone, ` +
        `p50 ${percentile(underAttack, 50).toFixed(1)} ms / p99 ${percentile(underAttack, 99).toFixed(1)} ms beside 200 slowloris sockets and 20 trickled bodies; ` +
        `slowloris sockets cut after ${Math.min(...headerCuts.map((c) => c.afterMs))}-${Math.max(...headerCuts.map((c) => c.afterMs))} ms, ` +
        `trickled bodies after ${Math.min(...bodyCuts.map((c) => c.afterMs))}-${Math.max(...bodyCuts.map((c) => c.afterMs))} ms`,
    );
    await server.stop();
  }, 60_000);
});
