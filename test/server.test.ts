// The runtime interface as operators use it: `npm start`'s entry point with
// PORT, HOST, DATA_DIR and no OPERATOR_TOKEN, on the embedded database.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
let child: ChildProcess | undefined;
afterAll(() => child?.kill("SIGKILL"));

function startServer(env: Record<string, string>): Promise<{ output: () => string; port: number }> {
  let output = "";
  child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 90 s:\n${output}`)), 90_000);
    const poll = setInterval(() => {
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve({ output: () => output, port: Number(match[1]) });
      }
    }, 100);
  });
}

describe("the server process", () => {
  it("starts on the embedded database, generates and reports the operator token, answers /health, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "gateway-"));
    const server = await startServer({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, NODE_ENV: "production" });
    const tokenFile = path.join(dataDir, "operator-token");
    expect(server.output()).toContain(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();

    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const anonymous = await fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ viewer { role } }"}' });
    expect(anonymous.status).toBe(401);
    const asOperator = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: '{"query":"{ viewer { role } }"}',
    });
    expect(await asOperator.json()).toEqual({ data: { viewer: { role: "OPERATOR" } } });

    // SIGTERM while a request is in flight: it still gets its answer, then the process exits 0.
    const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));
    const inFlight = fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: '{"query":"{ managers(first: 250) { totalCount nodes { id email subAccounts { totalCount } } } }"}',
    });
    await new Promise((r) => setTimeout(r, 5));
    child!.kill("SIGTERM");
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect((await answered.json()).data.managers.totalCount).toBe(0);
    expect(await exited).toBe(0);
    expect(server.output()).toContain('"message":"stopped"');
  }, 300_000);
});
