// kill -9 of the server on the embedded database in the middle of a stream of
// charges, five times (issue 15): after each restart on the same DATA_DIR
// every acknowledged charge is there, a replay of its idempotency key returns
// the same record and charges nothing, and the billing invariants hold
// (totalSpent = charges x price, balance = top-up - totalSpent, one ledger
// entry per charge). A charge killed before its answer either committed whole
// or left nothing: the ledger is counted, not assumed.
import { afterAll, describe, expect, it } from "vitest";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { unique, uniqueEmail } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { postGraphQL } from "../helpers/remote.js";
import { killServers, type ServerProcess, startServer } from "../helpers/server.js";

afterAll(killServers);

const CRASHES = 5;
const PRICE_MICROS = 10_000n; // 0.01 per SMS
const TOP_UP_MICROS = 1_000_000_000n; // 1000.00

const CREATE_MANAGER = graphql(`mutation($input: CreateManagerInput!) { createManager(input: $input) {
  __typename ... on CreateManagerSuccess { secret manager { id } } ... on Error { code message } } }`);
const CREATE_SUB = graphql(`mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) {
  __typename ... on CreateSubAccountSuccess { subAccount { id } } ... on Error { code message } } }`);
const SET_PRICING = graphql(`mutation($input: SetPricingInput!) { setAccountPricing(input: $input) { __typename ... on Error { code message } } }`);
const TOP_UP = graphql(`mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) { __typename ... on Error { code message } } }`);
const CHARGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  __typename ... on RecordUsageSuccess { usageRecord { id } } ... on Error { code } } }`);
const LEDGER = graphql(`query($id: ID!, $after: String) { node(id: $id) { ... on SubAccount {
  balance { available { amount } totalSpent { amount } ledger(first: 1) { totalCount } }
  usageRecords(first: 250, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id idempotencyKey } } } } }`);

/** "12.340000" -> 12340000n */
const micros = (amount: string) => BigInt(amount.replace(".", ""));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("kill -9 on the embedded database", () => {
  it(`keeps every acknowledged charge and the invariants through ${CRASHES} crashes mid-stream`, async () => {
    let server: ServerProcess = await startServer({ OPERATOR_TOKEN, METRICS_PORT: "off" });
    const dataDir = server.dataDir;
    const created = (await postGraphQL(server.baseUrl, OPERATOR_TOKEN, CREATE_MANAGER, { input: { email: uniqueEmail("m"), organizationName: "Acme" } })).body
      .data?.createManager;
    if (created?.__typename !== "CreateManagerSuccess") throw new Error(JSON.stringify(created));
    const managerToken = created.secret;
    const sub = (await postGraphQL(server.baseUrl, managerToken, CREATE_SUB, { input: { email: uniqueEmail("s"), organizationName: "Customer" } })).body.data
      ?.createSubAccount;
    if (sub?.__typename !== "CreateSubAccountSuccess") throw new Error(JSON.stringify(sub));
    const subId = sub.subAccount.id;
    const pricing = await postGraphQL(server.baseUrl, OPERATOR_TOKEN, SET_PRICING, {
      input: { accountId: created.manager.id, rates: [{ product: "SMS_OUTBOUND", unitPrice: "0.01" }] },
    });
    expect(pricing.body.errors).toBeUndefined();
    const funded = await postGraphQL(server.baseUrl, OPERATOR_TOKEN, TOP_UP, { input: { accountId: subId, amount: "1000", idempotencyKey: unique("topup") } });
    expect(funded.body.data?.topUpBalance.__typename).toBe("TopUpBalanceSuccess");

    const acknowledged = new Map<string, string>();
    const charge = (target: ServerProcess, key: string) =>
      postGraphQL(target.baseUrl, managerToken, CHARGE, { input: { accountId: subId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: key } });

    for (let round = 1; round <= CRASHES; round++) {
      let running = true;
      const current = server;
      const clients = Array.from({ length: 4 }, async () => {
        while (running) {
          const key = unique(`r${round}`);
          try {
            const result = (await charge(current, key)).body.data?.recordUsage;
            if (result?.__typename === "RecordUsageSuccess") acknowledged.set(key, result.usageRecord.id);
          } catch {
            return; // the process is gone: this charge was never acknowledged
          }
        }
      });
      await sleep(400 + round * 150);
      const exit = current.stop("SIGKILL");
      running = false;
      await Promise.all([exit, ...clients]);
      server = await startServer({ OPERATOR_TOKEN, METRICS_PORT: "off", DATA_DIR: dataDir });
    }
    expect(acknowledged.size).toBeGreaterThan(CRASHES * 5);

    // Read every usage record back, page by page.
    const readPage = async (cursor: string | null) => (await postGraphQL(server.baseUrl, managerToken, LEDGER, { id: subId, after: cursor })).body.data?.node;
    const stored = new Map<string, string>();
    let after: string | null = null;
    let balance: { available: { amount: string } | null; totalSpent: { amount: string }; ledger: { totalCount: number } } | undefined;
    let totalCount = 0;
    do {
      const node = await readPage(after);
      if (!node || !("usageRecords" in node)) throw new Error("the sub-account is not readable");
      balance = node.balance;
      totalCount = node.usageRecords.totalCount;
      for (const record of node.usageRecords.nodes) if (record.idempotencyKey) stored.set(record.idempotencyKey, record.id);
      after = node.usageRecords.pageInfo.hasNextPage ? node.usageRecords.pageInfo.endCursor : null;
    } while (after);

    // Every acknowledged charge is there, with the id it was acknowledged with.
    for (const [key, id] of acknowledged) expect(stored.get(key), key).toBe(id);
    expect(stored.size).toBe(totalCount);
    const charged = BigInt(totalCount) * PRICE_MICROS;
    expect(micros(balance!.totalSpent.amount)).toBe(charged);
    expect(micros(balance!.available!.amount)).toBe(TOP_UP_MICROS - charged);
    expect(balance!.ledger.totalCount).toBe(totalCount + 1); // the top-up and one entry per charge

    // A replay after the crashes returns the first result and charges nothing.
    const [replayKey, replayId] = [...acknowledged][0]!;
    const replay = (await charge(server, replayKey)).body.data?.recordUsage;
    expect(replay?.__typename === "RecordUsageSuccess" && replay.usageRecord.id).toBe(replayId);
    const afterReplay = (await postGraphQL(server.baseUrl, managerToken, LEDGER, { id: subId, after: null })).body.data?.node;
    expect(afterReplay && "usageRecords" in afterReplay && afterReplay.usageRecords.totalCount).toBe(totalCount);

    console.log(
      `crash recovery: ${CRASHES} kill -9 mid-stream, ${acknowledged.size} charges acknowledged, ${totalCount} in the ledger ` +
        `(${totalCount - acknowledged.size} committed but killed before their answer), all acknowledged present, invariants hold`,
    );
    expect(await server.stop()).toBe(0);
  }, 240_000);
});
