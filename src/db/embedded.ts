import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
// Trigram search (migration 0002_trigram_search) needs the pg_trgm extension loaded.
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  connectionString: string;
  /** The Unix socket the database is served on (inside a 0700 directory). */
  socketPath: string;
  stop(): Promise<void>;
}

// node-postgres (and libpq) reach a Unix socket through its directory and a
// port: the file must be named .s.PGSQL.<port>. Nothing listens on that port.
const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
// sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL
// included; a longer path fails to bind (or is silently cut on some systems).
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * Starts PGlite (Postgres compiled to WebAssembly) and serves it on a Unix
 * socket, so the app reaches it through the same pg driver and Prisma adapter
 * it uses for a real Postgres server. `dataDir` undefined keeps it in memory.
 *
 * The socket server has no authentication at all, so it never listens on TCP
 * (any local user could connect to a loopback port); file permissions are the
 * only access control: the socket sits in a directory only this user may
 * enter (0700), and is itself 0600.
 */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  if (dataDir) {
    mkdirSync(path.dirname(dataDir), { recursive: true });
    // Created here (PGlite would create it 0755) and left for PGlite to fill.
    privateDirectory(dataDir);
  }
  const socket = socketDirectory(dataDir && path.join(path.dirname(dataDir), "socket"));
  const socketPath = path.join(socket.dir, SOCKET_NAME);
  // Also for a process that never calls stop() (a test worker) or ends on an
  // uncaught error; only a process killed outright leaves the folder behind.
  const removeTemporary = () => {
    if (socket.temporary) rmSync(socket.dir, { recursive: true, force: true });
  };
  process.once("exit", removeTemporary);

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
    // The initial cluster PGlite unpacks on first start has mode 0666 files
    // (files Postgres creates later are 0600). The 0700 folders above already
    // keep other users out; this keeps the files private should a folder
    // above ever be opened up.
    if (dataDir) stripGroupAndOtherAccess(dataDir);
    // A socket left by a process that was killed would make listen() fail
    // with EADDRINUSE. No other process can be using it: the data folder is
    // claimed (pid file, src/db/prepare.ts), and a temporary folder is new.
    rmSync(socketPath, { force: true });
    server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 100 });
    await server.start();
    chmodSync(socketPath, 0o600);
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    process.removeListener("exit", removeTemporary);
    removeTemporary();
    throw error;
  }

  const query = new URLSearchParams({ host: socket.dir, port: String(SOCKET_PORT) });
  return {
    // pg (pg-connection-string) and libpq read a socket directory from the
    // `host` parameter; the URL itself then has an empty host.
    connectionString: `postgresql://postgres@/postgres?${query}`,
    socketPath,
    async stop() {
      // Closing the server also unlinks the socket file.
      await server!.stop();
      await db!.close();
      rmSync(socketPath, { force: true });
      process.removeListener("exit", removeTemporary);
      removeTemporary();
    },
  };
}

/**
 * Where the socket goes. Next to the data (`DATA_DIR/socket`) when its path
 * fits in sun_path, so it stays in the data folder the operator chose;
 * otherwise (a deep DATA_DIR, or the in-memory database, which has no
 * folder) a fresh directory from mkdtemp (mode 0700, a name no other user can
 * predict or pre-create), removed at stop. /tmp is the last resort for a deep
 * TMPDIR.
 */
function socketDirectory(preferred: string | undefined): { dir: string; temporary: boolean } {
  const fits = (dir: string) => Buffer.byteLength(path.join(dir, SOCKET_NAME)) <= MAX_SOCKET_PATH_BYTES;
  if (preferred && fits(preferred)) {
    privateDirectory(preferred);
    assertPrivate(preferred);
    return { dir: preferred, temporary: false };
  }
  // mkdtemp appends 6 characters to the prefix.
  const base = [tmpdir(), "/tmp"].find((dir) => fits(path.join(dir, "pglite-XXXXXX")));
  if (!base) throw new Error(`no directory short enough for the embedded database's Unix socket (${MAX_SOCKET_PATH_BYTES} bytes at most)`);
  const dir = mkdtempSync(path.join(base, "pglite-"));
  privateDirectory(dir);
  assertPrivate(dir);
  return { dir, temporary: true };
}

/**
 * Creates `dir` with mode 0700, or tightens it to 0700 when it exists and
 * belongs to this user (a folder of someone else's is left as it is: not
 * ours to change). Its parents are created with the default mode, since they
 * may be shared folders such as /srv.
 */
export function privateDirectory(dir: string): void {
  mkdirSync(path.dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (stat.uid === process.getuid?.() && (stat.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/** The socket's directory is its only lock: refuse one that another user could have prepared. */
function assertPrivate(dir: string): void {
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || (stat.mode & 0o777) !== 0o700) {
    throw new Error(`${dir} must be a directory of this user's with mode 0700 to hold the embedded database's socket`);
  }
}

/** Tightens an existing file of this user's to 0600 (writeFileSync's `mode` only applies to a new file). */
export function privateFile(file: string): void {
  const stat = lstatSync(file);
  if (stat.isFile() && stat.uid === process.getuid?.() && (stat.mode & 0o777) !== 0o600) chmodSync(file, 0o600);
}

function stripGroupAndOtherAccess(root: string): void {
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue; // chmod would follow it out of the folder
    const file = path.join(entry.parentPath, entry.name);
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, mode & 0o700);
  }
}
