// `npm run purge [-- --now 2027-01-01T00:00:00Z]`: deletes closed sub-accounts
// whose 30 days have passed (as the server does hourly). `--now` sets the
// clock, for tests and operations.
import { readConfig } from "../src/config.js";
import { prepareDatabase } from "../src/db/prepare.js";

const nowArg = process.argv.indexOf("--now");
const now = nowArg >= 0 ? new Date(process.argv[nowArg + 1] ?? "") : new Date();
if (Number.isNaN(now.getTime())) {
  console.error("--now needs an ISO 8601 date, e.g. --now 2027-01-01T00:00:00Z");
  process.exit(2);
}
const config = readConfig();
const database = await prepareDatabase(config).catch((error: Error) => {
  // A clear line for the operator (data folder in use, database unreachable), not a stack trace.
  console.error(`cannot start: ${error.message}`);
  process.exit(1);
});
const { purgeClosedSubAccounts } = await import("../src/services/purge.js");
const { disconnectDatabase } = await import("../src/db/client.js");
const { purged } = await purgeClosedSubAccounts(now);
console.log(JSON.stringify({ message: "purge done", now: now.toISOString(), purged }));
await disconnectDatabase();
await database.embedded?.stop();
