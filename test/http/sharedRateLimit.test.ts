// Two gateway processes with REDIS_URL share one budget per key.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill("SIGKILL")));

async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname, () => (socket.end(), resolve(true)));
    socket.on("error", () => resolve(false));
  });
}

function startServer(env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", PORT: "0", DATA_DIR: mkdtempSync(path.join(tmpdir(), "gateway-")), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready:\n${output}`)), 120_000);
    const poll = setInterval(() => {
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    }, 100);
  });
}

describe("rate limits shared through Redis", async () => {
  const available = await redisReachable();
  it.skipIf(!available)("two processes spend one budget per key", async () => {
    const env = {
      REDIS_URL,
      OPERATOR_TOKEN: "op_shared_budget_test",
      RATE_LIMIT_PER_KEY: "6",
      RATE_LIMIT_NAMESPACE: `test-${Date.now()}-${Math.random()}`,
    };
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const port of [a, b]) {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer op_shared_budget_test" },
          body: '{"query":"{ viewer { role } }"}',
        });
        statuses.push(res.status);
      }
    }
    // 10 requests across both processes against one budget of 6.
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
  }, 300_000);
});
