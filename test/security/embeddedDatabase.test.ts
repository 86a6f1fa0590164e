// The embedded database has no password: whoever reaches its socket reads and
// writes every tenant. These tests look at the real server process as another
// local user would: which TCP ports answer, which files they can open, and
// (as root) what user `nobody` gets when it tries.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { parse } from "pg-connection-string";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/db/embedded.js";
import { killServers, type ServerProcess, startServer } from "../helpers/server.js";

afterAll(killServers);

const isRoot = process.getuid?.() === 0;
const mode = (file: string) => statSync(file).mode & 0o777;
const OPERATOR_TOKEN = "op_embedded-database-test-token-0123456789abcdef";

describe("the embedded database of a running server", () => {
  let base: string;
  let dataDir: string;
  let server: ServerProcess;
  let socketPath: string;

  beforeAll(async () => {
    // A DATA_DIR another user can enter, holding a world-readable token, as
    // an older version or a careless copy leaves them: the server must close both.
    base = mkdtempSync(path.join(tmpdir(), "gateway-embedded-"));
    chmodSync(base, 0o755);
    dataDir = path.join(base, "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o777);
    writeFileSync(path.join(dataDir, "operator-token"), `${OPERATOR_TOKEN}\n`);
    chmodSync(path.join(dataDir, "operator-token"), 0o644);
    server = await startServer({ DATA_DIR: dataDir, METRICS_PORT: "off" }, 60_000); // metrics off: the only TCP listener left must be the HTTP port
    socketPath = postgresSockets(processTree(server.child.pid!))[0]!;
  });

  afterAll(async () => {
    if (server.child.exitCode === null) await server.stop();
    rmSync(base, { recursive: true, force: true });
  });

  it("listens on no TCP port but its HTTP port, and that one speaks no Postgres", async () => {
    const listeners = tcpListeners(processTree(server.child.pid!));
    expect(listeners).toEqual([server.port]);
    for (const port of listeners) {
      const answer = await sendStartupMessage({ host: "127.0.0.1", port });
      // A Postgres server answers with R (authentication) or E (error); this is HTTP refusing garbage.
      expect(answer.subarray(0, 12).toString()).toBe("HTTP/1.1 400");
      const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres", connectionTimeoutMillis: 5000 });
      await expect(client.connect()).rejects.toThrow();
      await client.end().catch(() => {});
    }
    // The same probe recognises Postgres where it is: on the Unix socket.
    expect(String.fromCharCode((await sendStartupMessage({ path: socketPath }))[0]!)).toBe("R");
  });

  it("serves Postgres on a Unix socket (0600) in a 0700 directory, and keeps DATA_DIR 0700 with its secrets 0600", async () => {
    expect(socketPath).toBe(path.join(dataDir, "socket", ".s.PGSQL.5432"));
    expect(mode(path.dirname(socketPath))).toBe(0o700);
    expect(mode(socketPath)).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(path.join(dataDir, "operator-token"))).toBe(0o600);
    expect(mode(path.join(dataDir, "pglite.pid"))).toBe(0o600);
    expect(mode(path.join(dataDir, "pglite"))).toBe(0o700);
    const open = readdirSync(path.join(dataDir, "pglite"), { recursive: true, withFileTypes: true })
      .map((entry) => path.join(entry.parentPath, entry.name))
      .filter((file) => mode(file) & 0o077);
    expect(open).toEqual([]);

    // The tightened token is still the one in use, and the database answers through the socket.
    const managers = await fetch(`${server.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}` },
      body: '{"query":"{ managers(first: 1) { totalCount } }"}',
    });
    expect(await managers.json()).toEqual({ data: { managers: { totalCount: 0 } } });
  });

  it.skipIf(!isRoot)("refuses another local user (nobody): no connection through the socket, no reading of DATA_DIR", async () => {
    const control = await worldConnectableSocket();
    try {
      const attempt = await asNobody(socketPath, path.join(dataDir, "operator-token"), dataDir, control.path);
      expect(attempt).toEqual({ socket: "EACCES", token: "EACCES", list: "EACCES", control: "connected" });
    } finally {
      await control.close();
    }
  });

  it("stops cleanly on SIGTERM and removes its socket", async () => {
    expect(await server.stop()).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
  });

  it("starts again after a crash left its socket behind", async () => {
    const crashed = await startServer({ DATA_DIR: dataDir, METRICS_PORT: "off" }, 60_000);
    await crashed.stop("SIGKILL");
    expect(existsSync(socketPath)).toBe(true);
    const again = await startServer({ DATA_DIR: dataDir, METRICS_PORT: "off" }, 60_000);
    expect(postgresSockets(processTree(again.child.pid!))).toEqual([socketPath]);
    expect((await fetch(`${again.baseUrl}/health`)).status).toBe(200);
    expect(await again.stop()).toBe(0);
  });
});

describe("a DATA_DIR too deep for a Unix socket path (about 107 bytes)", () => {
  it("puts the socket in a private temporary directory, removed at stop", async () => {
    const base = mkdtempSync(path.join(tmpdir(), "gateway-embedded-"));
    chmodSync(base, 0o755);
    const dataDir = path.join(base, "d".repeat(60), "e".repeat(60), "data");
    try {
      const server = await startServer({ DATA_DIR: dataDir, OPERATOR_TOKEN, METRICS_PORT: "off" }, 60_000);
      const tree = processTree(server.child.pid!);
      expect(tcpListeners(tree)).toEqual([server.port]);
      const [socketPath] = postgresSockets(tree);
      expect(socketPath!.startsWith(base)).toBe(false);
      expect(path.basename(path.dirname(socketPath!))).toMatch(/^pglite-/);
      expect(mode(path.dirname(socketPath!))).toBe(0o700);
      expect(mode(socketPath!)).toBe(0o600);
      expect(mode(dataDir)).toBe(0o700);

      const managers = await fetch(`${server.baseUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}` },
        body: '{"query":"{ managers(first: 1) { totalCount } }"}',
      });
      expect(await managers.json()).toEqual({ data: { managers: { totalCount: 0 } } });

      if (isRoot) {
        // Here nothing but the socket's own directory stands in the way (/tmp is open to all).
        const control = await worldConnectableSocket();
        try {
          const attempt = await asNobody(socketPath!, path.join(dataDir, "pglite", "PG_VERSION"), dataDir, control.path);
          expect(attempt).toEqual({ socket: "EACCES", token: "EACCES", list: "EACCES", control: "connected" });
        } finally {
          await control.close();
        }
      }

      expect(await server.stop()).toBe(0);
      expect(existsSync(path.dirname(socketPath!))).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("the in-memory database (the test suite's)", () => {
  it("is served on a socket in a private temporary directory, removed at stop", async () => {
    const embedded = await startEmbeddedPostgres();
    const socketDir = path.dirname(embedded.socketPath);
    expect(parse(embedded.connectionString)).toMatchObject({ host: socketDir, port: "5432" });
    expect(mode(socketDir)).toBe(0o700);
    expect(mode(embedded.socketPath)).toBe(0o600);
    const client = new pg.Client({ connectionString: embedded.connectionString });
    await client.connect();
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await client.end();
    await embedded.stop();
    expect(existsSync(socketDir)).toBe(false);
  });

  it.skipIf(process.env.TEST_DATABASE_KIND !== "pglite")("is what this test worker uses (DATABASE_URL names a 0700 socket directory)", () => {
    const host = parse(process.env.DATABASE_URL!).host!;
    expect(host.startsWith("/")).toBe(true);
    expect(mode(host)).toBe(0o700);
    expect(mode(path.join(host, ".s.PGSQL.5432"))).toBe(0o600);
  });
});

/** `pid` and every process descending from it (tsx may run helpers). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree;
}

function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** The TCP ports (IPv4 and IPv6) these processes listen on, from /proc/<pid>/net/tcp{,6} matched by socket inode. */
function tcpListeners(pids: number[]): number[] {
  const inodes = socketInodes(pids);
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/${pids[0]}/net/${table}`, "utf8").trim().split("\n").slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (state === "0A" && inodes.has(inode!)) ports.add(parseInt(local!.split(":")[1]!, 16));
    }
  }
  return [...ports].sort();
}

/**
 * The Postgres Unix sockets these processes listen on (/proc/net/unix matched
 * by inode; only listening sockets, flag __SO_ACCEPTCON: the server's own
 * accepted connection shows the same path while the pool holds it open).
 */
function postgresSockets(pids: number[]): string[] {
  const inodes = socketInodes(pids);
  const paths = readFileSync("/proc/net/unix", "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => inodes.has(fields[6]!) && fields[3] === "00010000" && fields[7]?.endsWith("/.s.PGSQL.5432"))
    .map((fields) => fields[7]!);
  expect(paths).toHaveLength(1);
  return paths;
}

/** Sends a Postgres StartupMessage (protocol 3.0, user postgres) and resolves with the first bytes of the answer. */
function sendStartupMessage(target: { host: string; port: number } | { path: string }): Promise<Buffer> {
  const params = Buffer.from("user\0postgres\0database\0postgres\0\0");
  const message = Buffer.alloc(8 + params.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196608, 4);
  params.copy(message, 8);
  return new Promise((resolve, reject) => {
    const socket = connect(target as never);
    let answer = Buffer.alloc(0);
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(5000, done);
    socket.on("connect", () => socket.write(message));
    socket.on("data", (chunk) => {
      answer = Buffer.concat([answer, chunk]);
      if (answer.length >= 12) done();
    });
    socket.on("end", done);
    socket.on("error", (error) => (answer.length ? done() : reject(error)));
  });
}

/** A Unix socket any user may connect to: proves a refusal comes from permissions, not from the child itself. */
async function worldConnectableSocket(): Promise<{ path: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "gateway-control-"));
  chmodSync(dir, 0o755);
  const socketPath = path.join(dir, "control.sock");
  const server: Server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666);
  return {
    path: socketPath,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs node as user nobody: connects to `socketPath`, reads `secret`, lists `dir`, connects to `control`; reports each outcome. */
function asNobody(socketPath: string, secret: string, dir: string, control: string): Promise<Record<string, string>> {
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === "nobody");
  const uid = Number(entry?.[2] ?? 65534);
  const gid = Number(entry?.[3] ?? 65534);
  const script = `
    const net = require("node:net"), fs = require("node:fs");
    const [socketPath, secret, dir, control] = process.argv.slice(1);
    const tryConnect = (p) => new Promise((resolve) => {
      const s = net.connect(p);
      s.on("connect", () => { s.destroy(); resolve("connected"); });
      s.on("error", (e) => resolve(e.code));
    });
    const trySync = (f, ok) => { try { f(); return ok; } catch (e) { return e.code; } };
    (async () => {
      console.log(JSON.stringify({
        socket: await tryConnect(socketPath),
        token: trySync(() => fs.readFileSync(secret), "read"),
        list: trySync(() => fs.readdirSync(dir), "listed"),
        control: await tryConnect(control),
      }));
    })();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, socketPath, secret, dir, control], {
      uid,
      gid,
      cwd: "/",
      env: { PATH: process.env.PATH! },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`nobody's probe exited ${code}: ${err}`))));
  });
}
