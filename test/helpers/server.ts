// Starts the real server process (`src/server.ts`, as `npm start` does) for
// the tests of the runtime interface: signals, ports, several processes.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  port: number;
  /** Where the process said it serves metrics (METRICS_PORT), e.g. http://127.0.0.1:41235/metrics; undefined when off. */
  metricsUrl: string | undefined;
  dataDir: string;
  /** Everything the process printed so far. */
  output: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

const started: ChildProcess[] = [];

/** Kills every server a test file started (call from afterAll). */
export function killServers(): void {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
}

/**
 * Starts a gateway on a free port (and its metrics on another) with a fresh
 * data folder (embedded PGlite unless `env.DATABASE_URL` is given) and
 * resolves once it listens.
 */
export function startServer(env: Record<string, string> = {}, timeoutMs = 120_000): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(tmpdir(), "gateway-"));
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", PORT: "0", HOST: "127.0.0.1", METRICS_PORT: "0", DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/[^:"]+:(\d+))\/graphql/.exec(output);
      if (!match) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({
        child,
        baseUrl: match[1]!,
        port: Number(match[2]),
        // Logged before the API listens (server.ts), so it is there by now.
        metricsUrl: /metrics served on (http:\/\/[^"\s]+\/metrics)/.exec(output)?.[1],
        dataDir,
        output: () => output,
        stop: (signal = "SIGTERM") => {
          child.kill(signal);
          return exited;
        },
      });
    }, 100);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}
