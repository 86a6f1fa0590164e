// GET /reports/usage.csv: the usage report as CSV, through the real HTTP
// layer. The same bearer check, 401 and rate limits as /graphql; the same
// lines and field rules as the GraphQL report (no cost column for a
// sub-account); exact decimals; cells that cannot become formulas; bad
// parameters refused whole (400, JSON, no CSV); the body streamed in
// batches of accounts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { prisma } from "../../src/db/client.js";
import { accountsPerBatch } from "../../src/services/usageReports.js";
import { createApp } from "../../src/yoga.js";
import { app, countStatements, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, fundCharges, type Product, setAccountPricing, type TestAccount, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { missingLike } from "../helpers/ids.js";
import { dbId, fieldOf, recordUsage, resultOfType } from "./operations.js";

const DAY_MS = 86_400_000;
const now = new Date();
const N = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth())); // this month: the period's end
const M = new Date(Date.UTC(N.getUTCFullYear(), N.getUTCMonth() - 1)); // last month: the period
const D = new Date(M.getTime() + 4 * DAY_MS);
const iso = (d: Date) => d.toISOString();
const PERIOD = `from=${iso(M)}&to=${iso(N)}`;

/** An RFC 4180 reader, to check what a spreadsheet would read (quoted cells, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  if (cell || row.length) throw new Error(`CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

async function download(token: string | null, query = "", target = app, extraHeaders: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extraHeaders };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await target.fetch(`http://gateway.test/reports/usage.csv${query ? `?${query}` : ""}`, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The rows as objects keyed by the header's names. */
function records(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.map((name, i) => [name, r[i]!])));
}

let manager: TestAccount, sub: TestAccount, sibling: TestAccount, otherManager: TestAccount, otherSub: TestAccount;

async function charge(token: string, account: TestAccount, product: Product, quantity: number, occurredAt: Date) {
  resultOfType(await recordUsage(token, { accountId: account.id, product, quantity, occurredAt: iso(occurredAt) }), "RecordUsageSuccess");
}

beforeAll(async () => {
  manager = await createManager({ organizationName: '=HYPERLINK("http://evil.example")' });
  otherManager = await createManager();
  await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.0079", MMS_OUTBOUND: "0.0213", VOICE_OUTBOUND_MINUTE: "0.014" });
  sub = await createSubAccount(manager, { organizationName: 'Acme, "the" Company' });
  sibling = await createSubAccount(manager, { organizationName: "+1+1", rollupBilling: true });
  otherSub = await createSubAccount(otherManager, { organizationName: "-2" });
  for (const a of [manager, sub, sibling, otherManager, otherSub]) await fundCharges(a.id);
  await charge(sub.token, sub, "SMS_OUTBOUND", 3, new Date(D.getTime() - 1));
  await charge(sub.token, sub, "SMS_OUTBOUND", 5, D);
  await charge(sub.token, sub, "VOICE_OUTBOUND_MINUTE", 7, new Date(N.getTime() - 1));
  await charge(sibling.token, sibling, "MMS_OUTBOUND", 4, M);
  await charge(manager.token, manager, "SMS_OUTBOUND", 1, D);
  await charge(otherManager.token, otherSub, "SMS_OUTBOUND", 9, D);
});

const REPORT = graphql(`query($from: DateTime, $to: DateTime) { viewer { account { ... on Manager {
  usageReport(from: $from, to: $to, groupBy: DAY, first: 250) { nodes { account { id } product start end quantity records cost { amount } } } } } } }`);

describe("GET /reports/usage.csv", () => {
  it("gives a manager its whole tree as CSV: a header, the report's lines, exact decimals, as a download", async () => {
    const res = await download(manager.token, `${PERIOD}&groupBy=DAY`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="usage-\d{8}T000000Z-\d{8}T000000Z-day\.csv"$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.text.split("\r\n")[0]).toBe("start,end,account_id,account_type,email,organization_name,product,quantity,records,cost,currency");
    const rows = records(res.text);
    // The manager's own lines first, then its sub-accounts in creation order, each by time.
    expect(
      rows.map(
        (r) => `${r.account_id === manager.id ? "manager" : r.account_id === sub.id ? "sub" : "sibling"} ${r.product} ${r.start} ${r.quantity} ${r.cost}`,
      ),
    ).toEqual([
      `manager SMS_OUTBOUND ${iso(D)} 1 0.007900`,
      `sub SMS_OUTBOUND ${iso(new Date(D.getTime() - DAY_MS))} 3 0.023700`,
      `sub SMS_OUTBOUND ${iso(D)} 5 0.039500`,
      `sub VOICE_OUTBOUND_MINUTE ${iso(new Date(N.getTime() - DAY_MS))} 7 0.098000`,
      `sibling MMS_OUTBOUND ${iso(M)} 4 0.085200`,
    ]);
    expect(rows[1]).toMatchObject({ account_type: "SubAccount", email: sub.email, records: "1", currency: "USD", end: iso(D) });
    // The same lines as the GraphQL report.
    const report = fieldOf((await gqlData(REPORT, { token: manager.token, variables: { from: iso(M), to: iso(N) } })).viewer.account, "usageReport");
    const line = (l: { account: string; product: string; start: string; end: string; quantity: string; records: string; cost: string }) =>
      `${l.account} ${l.product} ${l.start} ${l.end} ${l.quantity} ${l.records} ${l.cost}`;
    expect(rows.map((r) => line({ ...r, account: r.account_id } as never)).sort()).toEqual(
      report.nodes.map((n) => line({ ...n, account: n.account.id, quantity: String(n.quantity), records: String(n.records), cost: n.cost!.amount })).sort(),
    );
    // Exact against the ledger: the CHARGE entries of the period's usage.
    const entries = await prisma.ledgerEntry.findMany({
      where: { kind: "CHARGE", usageRecord: { accountId: { in: [manager, sub, sibling].map((a) => dbId(a.id)) }, occurredAt: { gte: M, lt: N } } },
      select: { amountMicros: true },
    });
    const micros = (amount: string) => BigInt(amount.replace(".", ""));
    expect(rows.reduce((sum, r) => sum + micros(r.cost!), 0n)).toBe(-entries.reduce((sum, e) => sum + e.amountMicros, 0n));
  });

  it("by MONTH and for the whole period, with the buckets clipped to the period", async () => {
    const month = records((await download(manager.token, `from=${iso(new Date(M.getTime() + 3600_000))}&to=${iso(N)}&groupBy=MONTH`)).text);
    expect(month.map((r) => `${r.product} ${r.start} ${r.end} ${r.quantity}`)).toEqual([
      `SMS_OUTBOUND ${iso(new Date(M.getTime() + 3600_000))} ${iso(N)} 1`,
      `SMS_OUTBOUND ${iso(new Date(M.getTime() + 3600_000))} ${iso(N)} 8`,
      `VOICE_OUTBOUND_MINUTE ${iso(new Date(M.getTime() + 3600_000))} ${iso(N)} 7`,
      // The sibling's MMS at the month's first instant is before this period.
    ]);
    const whole = await download(manager.token, PERIOD);
    expect(whole.headers.get("content-disposition")).not.toMatch(/-day|-month/);
    expect(records(whole.text).map((r) => `${r.product} ${r.quantity} ${r.start} ${r.end}`)).toEqual([
      `SMS_OUTBOUND 1 ${iso(M)} ${iso(N)}`,
      `SMS_OUTBOUND 8 ${iso(M)} ${iso(N)}`,
      `VOICE_OUTBOUND_MINUTE 7 ${iso(M)} ${iso(N)}`,
      `MMS_OUTBOUND 4 ${iso(M)} ${iso(N)}`,
    ]);
  });

  it("gives a sub-account its own lines and no cost column; a sibling is never in it", async () => {
    const res = await download(sub.token, `${PERIOD}&groupBy=DAY`);
    expect(res.status).toBe(200);
    expect(res.text.split("\r\n")[0]).toBe("start,end,account_id,account_type,email,organization_name,product,quantity,records");
    const rows = records(res.text);
    expect(rows.map((r) => r.account_id)).toEqual([sub.id, sub.id, sub.id]);
    expect(res.text).not.toMatch(/,\d+\.\d{6}\r\n|USD/);
    const siblings = records((await download(sibling.token, PERIOD)).text);
    expect(siblings.map((r) => `${r.account_id} ${r.product} ${r.quantity}`)).toEqual([`${sibling.id} MMS_OUTBOUND 4`]);
  });

  it("with Act-As-Account, as on /graphql, a manager gets what its sub-account gets: no cost column", async () => {
    const acting = await download(manager.token, `${PERIOD}&groupBy=DAY`, app, { "act-as-account": sub.id });
    expect(acting.status).toBe(200);
    expect(acting.text).toBe((await download(sub.token, `${PERIOD}&groupBy=DAY`)).text);
    // Acting as a sub-account of another tree is the same 401 as a bad key.
    expect((await download(manager.token, PERIOD, app, { "act-as-account": otherSub.id })).status).toBe(401);
  });

  it("lets the operator and the manager name an account of the tree; anything out of reach is a 404 like a missing id", async () => {
    expect((await download(OPERATOR_TOKEN, PERIOD)).status).toBe(400);
    const asOperator = await download(OPERATOR_TOKEN, `${PERIOD}&account=${encodeURIComponent(manager.id)}`);
    expect(asOperator.status).toBe(200);
    expect(asOperator.text).toBe((await download(manager.token, PERIOD)).text);
    const subOnly = records((await download(manager.token, `${PERIOD}&account=${encodeURIComponent(sub.id)}`)).text);
    expect(subOnly.map((r) => `${r.account_id} ${r.quantity} ${r.cost}`)).toEqual([`${sub.id} 8 0.063200`, `${sub.id} 7 0.098000`]);
    const missing = await download(manager.token, `${PERIOD}&account=${encodeURIComponent(missingLike(otherSub.id))}`);
    for (const [token, account] of [
      [manager.token, otherSub.id],
      [manager.token, otherManager.id],
      [sub.token, sibling.id],
      [sub.token, manager.id],
      [otherManager.token, sub.id],
    ] as const) {
      const res = await download(token, `${PERIOD}&account=${encodeURIComponent(account)}`);
      expect(res.status).toBe(404);
      expect(res.text).toBe(missing.text);
    }
    expect(JSON.parse(missing.text)).toEqual({ errors: [{ message: "No such account", extensions: { code: "NOT_FOUND" } }] });
  });

  it("answers a missing or unknown key with the same 401 as /graphql", async () => {
    const graphqlRefusal = await gql(`{ viewer { role } }`, { token: "agk_not-a-key-at-all-0000000000000000000000000" });
    for (const token of [null, "agk_not-a-key-at-all-0000000000000000000000000", "garbage"]) {
      const res = await download(token, PERIOD);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(JSON.parse(res.text)).toEqual(graphqlRefusal.body);
    }
  });

  it.each([
    ["a date that is not one", "from=yesterday"],
    ["from after to", `from=${iso(N)}&to=${iso(M)}`],
    ["an unknown grouping", `${PERIOD}&groupBy=WEEK`],
    ["a lowercase grouping", `${PERIOD}&groupBy=day`],
    ["an unknown parameter", `${PERIOD}&groupby=DAY`],
    ["a repeated parameter", `${PERIOD}&from=${iso(M)}`],
    ["more than 400 days", "from=2025-01-01T00:00:00Z&to=2026-02-06T00:00:00Z&groupBy=DAY"],
    ["more than 36 months", "from=2020-01-01T00:00:00Z&to=2023-02-01T00:00:00Z&groupBy=MONTH"],
    ["an account id that is not one", `${PERIOD}&account=garbage`],
    ["an id of another type", `${PERIOD}&account=${encodeURIComponent(Buffer.from("ApiKey:00000000-0000-7000-8000-000000000000").toString("base64"))}`],
  ])("refuses %s with 400 and a JSON error, no CSV", async (_case, query) => {
    const res = await download(manager.token, query);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBeNull();
    const body = JSON.parse(res.text) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.extensions.code).toBe("BAD_USER_INPUT");
  });

  it("answers other methods with 405", async () => {
    const res = await app.fetch(`http://gateway.test/reports/usage.csv?${PERIOD}`, { method: "POST", headers: { authorization: `Bearer ${manager.token}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  it("keeps every cell from becoming a formula and quotes commas and quotes", async () => {
    const rows = parseCsv((await download(OPERATOR_TOKEN, `${PERIOD}&account=${encodeURIComponent(manager.id)}`)).text);
    const orgs = new Set(rows.slice(1).map((r) => r[5]));
    expect(orgs).toEqual(new Set(['\'=HYPERLINK("http://evil.example")', 'Acme, "the" Company', "'+1+1"]));
    const raw = (await download(manager.token, PERIOD)).text;
    expect(raw).toContain(`,"'=HYPERLINK(""http://evil.example"")",`);
    expect(raw).toContain(`,"Acme, ""the"" Company",`);
    expect(raw).toContain(",'+1+1,");
    expect(parseCsv((await download(otherManager.token, PERIOD)).text)[1]![5]).toBe("'-2");
    for (const row of rows.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it("an empty period is the header alone", async () => {
    const quiet = new Date(Date.UTC(N.getUTCFullYear(), N.getUTCMonth() - 6));
    const res = await download(manager.token, `from=${iso(quiet)}&to=${iso(new Date(quiet.getTime() + DAY_MS))}&groupBy=DAY`);
    expect(res.status).toBe(200);
    expect(res.text).toBe("start,end,account_id,account_type,email,organization_name,product,quantity,records,cost,currency\r\n");
  });

  it("spends the same per-key budget as /graphql, and 429s past it", async () => {
    const limited = createApp({ operatorToken: OPERATOR_TOKEN, production: false, rateLimits: { perKey: 2, perAddress: 100, windowSeconds: 60 } });
    try {
      const post = (query: string) =>
        limited.fetch("http://gateway.test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${manager.token}` },
          body: JSON.stringify({ query }),
        });
      expect((await post("{ viewer { role } }")).status).toBe(200);
      expect((await download(manager.token, PERIOD, limited)).status).toBe(200);
      const refused = await download(manager.token, PERIOD, limited);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(JSON.parse(refused.text).errors[0].extensions.code).toBe("RATE_LIMITED");
      expect((await post("{ viewer { role } }")).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe("streaming", () => {
  let big: TestAccount;
  const SUBS = 70;
  const DAYS = 10;
  const PRODUCTS = ["SMS_OUTBOUND", "SMS_INBOUND", "MMS_OUTBOUND", "VOICE_OUTBOUND_MINUTE", "VOICE_INBOUND_MINUTE", "PHONE_NUMBER_MONTHLY"] as const;

  beforeAll(async () => {
    // Bulk-made (the API path is covered above): 70 sub-accounts x 6 products x 10 days.
    big = await createManager();
    const managerId = dbId(big.id);
    const tag = unique("csv-tree");
    await prisma.account.createMany({
      data: Array.from({ length: SUBS }, (_, i) => ({
        kind: "SUB_ACCOUNT" as const,
        managerId,
        email: `${tag}-${i}@example.com`,
        organizationName: `Customer ${i}`,
        createdAt: new Date(Date.now() - (SUBS - i) * 1000),
      })),
    });
    const subs = await prisma.account.findMany({ where: { managerId }, select: { id: true } });
    await prisma.usageRecord.createMany({
      data: subs.flatMap((s, i) =>
        Array.from({ length: DAYS }).flatMap((_, day) =>
          PRODUCTS.map((product, k) => ({
            accountId: s.id,
            product,
            quantity: i + day + k + 1,
            unitPriceMicros: 1_234n,
            costMicros: 1_234n * BigInt(i + day + k + 1),
            idempotencyKey: `${tag}-${i}-${day}-${k}`,
            occurredAt: new Date(M.getTime() + day * DAY_MS + 7 * 3600_000),
          })),
        ),
      ),
    });
  });

  it(`streams ${SUBS * 6 * DAYS} lines in batches of accounts, one statement each, pulled as the client reads`, async () => {
    const query = `${PERIOD}&groupBy=DAY`;
    await download(big.token, query);
    await settleKeyUsage();
    const perBatch = accountsPerBatch({ from: M, to: N, groupBy: "DAY" });
    const batches = 1 + Math.ceil((SUBS + 1) / perBatch); // the manager's own, then full batches of sub-accounts until a short one
    const { result, statements } = await countStatements(async () => {
      const response = await app.fetch(`http://gateway.test/reports/usage.csv?${query}`, { headers: { authorization: `Bearer ${big.token}` } });
      const reader = response.body!.getReader();
      const chunks: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
      }
      return { chunks, text: Buffer.concat(chunks).toString("utf8") };
    });
    const rows = records(result.text);
    expect(rows).toHaveLength(SUBS * PRODUCTS.length * DAYS);
    expect(result.chunks.length).toBeGreaterThanOrEqual(Math.ceil(SUBS / perBatch));
    // Authentication, then one statement per batch.
    expect(statements).toBe(1 + batches);
    // Exact decimals: 1234 micros x quantity.
    const first = rows[0]!;
    expect(first.cost).toBe(`0.${String(1234 * Number(first.quantity)).padStart(6, "0")}`);
    // Every sub-account's lines together, in creation order.
    const order = rows.map((r) => r.organization_name).filter((v, i, all) => v !== all[i - 1]);
    expect(order).toEqual(Array.from({ length: SUBS }, (_, i) => `Customer ${i}`));

    // A client that stops reading stops the reads: one chunk, then cancel.
    const partial = await countStatements(async () => {
      const response = await app.fetch(`http://gateway.test/reports/usage.csv?${query}`, { headers: { authorization: `Bearer ${big.token}` } });
      const reader = response.body!.getReader();
      await reader.read();
      await reader.cancel();
    });
    expect(partial.statements).toBeLessThan(statements);
  });
});

afterAll(async () => {
  await settleKeyUsage();
});
