// Entry point of `npm start`: prepare the database, then listen.
import { createServer } from "node:http";
import { readConfig } from "./config.js";
import { prepareDatabase } from "./db/prepare.js";
import { resolveOperatorToken } from "./auth/operatorToken.js";

const config = readConfig();
const { logger } = await import("./observability/logger.js");
const log = (message: string, fields: Record<string, unknown> = {}) => logger.info(fields, message);

const database = await prepareDatabase(config).catch((error: Error) => {
  // A clear line for the operator (data folder in use, database unreachable), not a stack trace.
  console.error(`cannot start: ${error.message}`);
  process.exit(1);
});
log("database ready", {
  database: database.embedded ? `embedded PGlite in ${config.dataDir}/pglite` : "DATABASE_URL",
  migrationsApplied: database.migrationsApplied,
});

const operator = resolveOperatorToken(config.operatorToken, config.dataDir);
if (operator.file) log(`operator token is in ${operator.file}`, { operatorTokenFile: operator.file });

// Imported only now: the Prisma client reads DATABASE_URL when it loads.
const { createApp } = await import("./yoga.js");
const { disconnectDatabase } = await import("./db/client.js");
const { settleKeyUsage } = await import("./auth/authenticate.js");
const { startPurgeSchedule } = await import("./services/purge.js");

const yoga = createApp({ operatorToken: operator.token, production: config.production });
const server = createServer(yoga);
const stopPurge = startPurgeSchedule();

server.on("error", (error: NodeJS.ErrnoException) => {
  logger.error({ code: error.code }, error.code === "EADDRINUSE" ? `port ${config.port} on ${config.host} is in use: set PORT to another port` : `cannot listen: ${error.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  log(`gateway listening on http://${config.host}:${port}/graphql`, { port, host: config.host });
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log("shutting down", { signal });
  stopPurge();
  // Stop accepting connections; requests in flight finish first.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await yoga.close();
  await settleKeyUsage();
  await disconnectDatabase();
  await database.embedded?.stop();
  log("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
