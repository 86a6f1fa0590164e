import { encodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import type { Plugin } from "graphql-yoga";
import { missingPermissionMessage } from "../auth/actions.js";
import { holds } from "../auth/viewer.js";
import { isDatabaseUnavailable, serviceUnavailable } from "../db/availability.js";
import { CURRENCY, formatMicros } from "../domain/money.js";
import { logger } from "../observability/logger.js";
import { type ExportBatch, type ExportLine, loadExportBatch } from "../read/usageReport.js";
import { parseGlobalId } from "../schema/globalIds.js";
import {
  accountsPerBatch,
  clippedBucket,
  type ExportSubject,
  exportSubject,
  periodProblems,
  type ReportPeriod,
  reportPeriod,
  type UsageGrouping,
} from "../services/usageReports.js";
import { authenticateCaller } from "./callers.js";
import type { RequestLimiter } from "./rateLimit.js";

// GET /reports/usage.csv: the lines of a usage report (services/usageReports.ts)
// as CSV, for spreadsheets and billing systems. Authenticated and rate
// limited exactly like /graphql (the same bearer check and Act-As-Account
// header, 401 and budgets), with the same reach and field rules: a manager's
// tree, or one account; no cost column for a sub-account (or a manager
// acting as one, or a key restricted without BILLING_READ); a restricted key
// without ACCOUNTS_READ gets 403.
//
//   ?from=<date-time>&to=<date-time>&groupBy=DAY|MONTH&account=<Manager or SubAccount id>
//
// every parameter optional (the current UTC month, one bucket, the caller's
// own tree or account; the operator names an account). Parameters are
// checked whole before anything is sent: a bad one is a 400 with a JSON
// error and no CSV. The body is streamed in keyset batches of accounts (one
// statement each, at most CSV_BATCH_LINES lines in memory), pulled only as
// fast as the client reads. Rows are grouped by account (the manager's own
// first, then sub-accounts oldest first), each account's by bucket and
// product. A failure after the first bytes cuts the response off (the
// chunked body never ends), so a truncated file cannot pass for a whole one.

export const USAGE_CSV_PATH = "/reports/usage.csv";

/** What the export builds its answers with: Yoga's fetch API (the server adapter's own classes). */
type FetchAPI = Pick<typeof globalThis, "Response" | "ReadableStream">;

const PARAMETERS = new Set(["from", "to", "groupBy", "account"]);

/** A cell starting with one of these is a formula to spreadsheets (CSV injection): it gets a leading quote. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV cell of text that may come from a client: never a formula, quoted when it holds a separator, quote or line break. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The header row's cells; `cost` and `currency` only for managers and operators. */
export const csvColumns = (withCost: boolean): string[] => [
  "start",
  "end",
  "account_id",
  "account_type",
  "email",
  "organization_name",
  "product",
  "quantity",
  "records",
  ...(withCost ? ["cost", "currency"] : []),
];

const ACCOUNT_TYPES = { MANAGER: "Manager", SUB_ACCOUNT: "SubAccount" } as const;

function csvRows(lines: readonly ExportLine[], period: ReportPeriod, withCost: boolean): string {
  let out = "";
  for (const line of lines) {
    const { start, end } = clippedBucket(line.bucket, period);
    const { account } = line;
    // Our own values (dates, ids, enum names, decimals) cannot start a formula or hold a separator.
    out += `${start.toISOString()},${end.toISOString()},${encodeGlobalID(ACCOUNT_TYPES[account.kind], account.id)},${ACCOUNT_TYPES[account.kind]},${csvCell(account.email)},${csvCell(account.organizationName ?? "")},${line.product},${line.quantity},${line.records}`;
    out += withCost ? `,${formatMicros(line.cost)},${CURRENCY}\r\n` : "\r\n";
  }
  return out;
}

/** The export's lines, one batch (one statement) at a time: the account itself, or the manager's own then its sub-accounts in creation order. */
async function* exportBatches(subject: ExportSubject, period: ReportPeriod): AsyncGenerator<ExportLine[]> {
  yield (await loadExportBatch({ id: subject.accountId }, period)).lines;
  if (subject.scope === "ACCOUNT") return;
  const limit = accountsPerBatch(period);
  let after: ExportBatch["last"] = null;
  for (;;) {
    const batch = await loadExportBatch({ managerId: subject.accountId, after, limit }, period);
    yield batch.lines;
    if (batch.accounts < limit) return;
    after = batch.last;
  }
}

/** A refusal as /graphql words it: `{ errors: [{ message, extensions: { code } }] }`, with the error's status and headers. */
function errorResponse(fetchAPI: FetchAPI, error: GraphQLError): Response {
  const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
  const { http: _http, ...extensions } = error.extensions;
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message: error.message, extensions }] }), {
    status: http.status ?? 400,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...http.headers },
  });
}

const refusal = (status: number, code: string, message: string, headers?: Record<string, string>) =>
  new GraphQLError(message, { extensions: { code, http: { status, headers } } });
const badRequest = (message: string) => refusal(400, "BAD_USER_INPUT", message);

/** The period and the account named, or the 400 a bad parameter gets. */
function parseParameters(url: URL): { period: ReportPeriod; account: string | null } | GraphQLError {
  for (const name of new Set(url.searchParams.keys())) {
    if (!PARAMETERS.has(name)) return badRequest(`Unknown parameter \`${name}\`; the parameters are ${[...PARAMETERS].join(", ")}`);
    if (url.searchParams.getAll(name).length > 1) return badRequest(`\`${name}\` is given more than once`);
  }
  const get = (name: string) => url.searchParams.get(name);
  const dates: Record<"from" | "to", Date | null> = { from: null, to: null };
  for (const name of ["from", "to"] as const) {
    const value = get(name);
    if (value == null) continue;
    try {
      dates[name] = DateTimeResolver.parseValue(value) as Date;
    } catch {
      return badRequest(`\`${name}\` must be a date-time such as 2025-01-01T00:00:00Z`);
    }
  }
  const groupBy = get("groupBy");
  if (groupBy != null && groupBy !== "DAY" && groupBy !== "MONTH") return badRequest("`groupBy` must be DAY or MONTH");
  const period = reportPeriod({ ...dates, groupBy: groupBy as UsageGrouping | null });
  const problems = periodProblems(period);
  if (problems.length) return badRequest(problems.join("; "));
  return { period, account: get("account") };
}

/** attachment; filename="usage-20250101T000000Z-20250201T000000Z-day.csv" */
function fileName(period: ReportPeriod): string {
  const compact = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.000Z$/, "Z");
  return `usage-${compact(period.from)}-${compact(period.to)}${period.groupBy ? `-${period.groupBy.toLowerCase()}` : ""}.csv`;
}

/** What Yoga's Node adapter passes along (server.ts); absent under `app.fetch`. */
interface NodeServerContext {
  req?: { socket?: { remoteAddress?: string } };
  res?: { destroy(): void };
}

export interface UsageCsvOptions {
  operatorToken: string;
  /** The budgets /graphql spends (yoga.ts): the same per key and per address. */
  limiter: RequestLimiter;
}

/** Serves USAGE_CSV_PATH before Yoga's GraphQL handling (plugin order: after CORS, so preflights and CORS headers apply). */
export function useUsageCsvExport({ operatorToken, limiter }: UsageCsvOptions): Plugin {
  return {
    async onRequest({ url, request, serverContext, endResponse, fetchAPI }) {
      if (url.pathname !== USAGE_CSV_PATH) return;
      try {
        endResponse(await answer(request, url, serverContext as NodeServerContext, fetchAPI));
      } catch (error) {
        if (error instanceof GraphQLError && error.extensions.code) return endResponse(errorResponse(fetchAPI, error));
        if (isDatabaseUnavailable(error)) return endResponse(errorResponse(fetchAPI, serviceUnavailable()));
        logger.error({ path: USAGE_CSV_PATH, err: error }, "unexpected error");
        endResponse(errorResponse(fetchAPI, refusal(500, "INTERNAL_SERVER_ERROR", "Unexpected error.")));
      }
    },
  };

  async function answer(request: Request, url: URL, server: NodeServerContext, fetchAPI: FetchAPI): Promise<Response> {
    if (request.method !== "GET") throw refusal(405, "METHOD_NOT_ALLOWED", "Only GET is allowed here", { allow: "GET" });
    const { viewer } = await authenticateCaller(request, server.req?.socket?.remoteAddress, { operatorToken, limiter });
    // The report's lines are ACCOUNTS_READ, as Manager.usageReport is (its costs BILLING_READ: exportSubject).
    if (!holds(viewer, "ACCOUNTS_READ")) throw refusal(403, "FORBIDDEN", missingPermissionMessage("ACCOUNTS_READ"));

    const parsed = parseParameters(url);
    if (parsed instanceof GraphQLError) throw parsed;
    const { period } = parsed;
    let named = null;
    if (parsed.account != null) {
      const id = parseGlobalId(parsed.account);
      if (!id || (id.typename !== "Manager" && id.typename !== "SubAccount")) throw badRequest("`account` must be the id of a Manager or a SubAccount");
      named = { id: id.id, kind: id.typename === "Manager" ? ("MANAGER" as const) : ("SUB_ACCOUNT" as const) };
    }
    const subject = await exportSubject(viewer, named);
    if (subject === "required") throw badRequest("The operator names the account to export: `account=<Manager or SubAccount id>`");
    if (!subject) throw refusal(404, "NOT_FOUND", "No such account");

    // The first batch is read before the response starts: a failure there is still a proper error status.
    const batches = exportBatches(subject, period);
    const first = await batches.next();
    const encoder = new TextEncoder();
    let head: string | undefined = `${csvColumns(subject.withCost).join(",")}\r\n${first.done ? "" : csvRows(first.value, period, subject.withCost)}`;
    const body = new fetchAPI.ReadableStream<Uint8Array>({
      async pull(controller) {
        if (head !== undefined) {
          controller.enqueue(encoder.encode(head));
          head = undefined;
          return;
        }
        try {
          // Batches of accounts without usage hold no lines: read on until one does.
          for (;;) {
            const next = await batches.next();
            if (next.done) return controller.close();
            if (next.value.length) return controller.enqueue(encoder.encode(csvRows(next.value, period, subject.withCost)));
          }
        } catch (error) {
          // The status is sent: the only honest answer left is to cut the body
          // off. Erroring the stream alone leaves Node's response open (the
          // adapter just stops writing), so the socket is destroyed too.
          logger.error({ path: USAGE_CSV_PATH, err: error }, "usage CSV failed while streaming");
          server.res?.destroy();
          controller.error(error);
        }
      },
      async cancel() {
        await batches.return(undefined);
      },
    });
    return new fetchAPI.Response(body, {
      status: 200,
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${fileName(period)}"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
    });
  }
}
