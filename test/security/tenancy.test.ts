// What one tenant can learn about, or do to, another through values it
// chooses: emails (unique within a tree only), idempotency keys (scoped to
// the caller), replays after a purge, and global ids relabelled as another
// type. Plus the proof that the SQL form of the reach rule and its Prisma
// form reach the same rows.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "../../src/auth/authenticate.js";
import { reachableAccounts, reachableAccountsSql, reachableAccountsSqlValues, within } from "../../src/auth/rowFilters.js";
import type { Viewer } from "../../src/auth/viewer.js";
import { prisma } from "../../src/db/client.js";
import { runSql } from "../../src/db/sql.js";
import type { Prisma } from "../../src/generated/prisma/client.js";
import { parseGlobalId } from "../../src/schema/globalIds.js";
import { purgeClosedSubAccounts } from "../../src/services/purge.js";
import { dbId, expectInvariants, recordUsage, result, topUpAs } from "../billing/operations.js";
import { gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld, fundCharges, uniqueEmail, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

const rowId = (globalId: string) => parseGlobalId(globalId)!.id;

const CREATE_SUB = graphql(`mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) {
  __typename ... on CreateSubAccountSuccess { subAccount { id email } } ... on Error { code message } } }`);
const UPDATE_SUB = graphql(`mutation($input: UpdateSubAccountInput!) { updateSubAccount(input: $input) { __typename ... on Error { code message } } }`);
const UPDATE_MANAGER = graphql(`mutation($input: UpdateManagerInput!) { updateManager(input: $input) { __typename ... on Error { code message } } }`);

// The billing helpers (recordUsage, topUpAs) are typed in their own file; these
// read their results from `unknown`, checking each step, whatever type they have.
function typenameOf(r: unknown): unknown {
  if (typeof r !== "object" || r === null || !("__typename" in r)) throw new Error(`not a result: ${JSON.stringify(r)}`);
  return r.__typename;
}
/** The usage record's id of a RecordUsageSuccess; fails on any other result. */
function usageRecordId(r: unknown): string {
  expect(typenameOf(r)).toBe("RecordUsageSuccess");
  const record = typeof r === "object" && r !== null && "usageRecord" in r ? r.usageRecord : undefined;
  if (typeof record !== "object" || record === null || !("id" in record) || typeof record.id !== "string") throw new Error("no usage record id");
  return record.id;
}

/** What the relabelled-id mutations below read of their (run-time built) documents. */
type TypenameAndCode = Record<string, { __typename: string; code?: string } | undefined>;

describe("emails are unique within a tree, and another tree's are not this tree's business", () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld();
  });

  it("a manager may give its sub-account an email that another tree's sub-account or manager holds", async () => {
    for (const email of [w.otherSub.email, w.otherManager.email]) {
      const created = (await gqlData(CREATE_SUB, { token: w.manager.token, variables: { input: { email } } })).createSubAccount;
      expect(created, email).toMatchObject({ __typename: "CreateSubAccountSuccess", subAccount: { email } });
    }
    // And change one to another tree's email: no answer tells it the email is in use elsewhere.
    const renamed = (
      await gqlData(UPDATE_SUB, { token: w.manager.token, variables: { input: { id: w.sibling.id, email: w.otherSub.email.replace("sub", "sub2") } } })
    ).updateSubAccount;
    expect(renamed.__typename).toBe("UpdateSubAccountSuccess");
  });

  it("within one tree an email is a ConflictError: a sibling's, the manager's own, in any case", async () => {
    for (const email of [w.sub.email, w.sub.email.toUpperCase(), w.manager.email]) {
      const r = (await gqlData(CREATE_SUB, { token: w.manager.token, variables: { input: { email } } })).createSubAccount;
      expect(r, email).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    }
    const r = (await gqlData(UPDATE_SUB, { token: w.sub.token, variables: { input: { id: w.sub.id, email: w.manager.email } } })).updateSubAccount;
    expect(r).toMatchObject({ __typename: "ConflictError" });
  });

  it("a manager cannot take a sub-account's email of its own tree, nor another manager's; another tree's sub-account's it may", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const own = (await gqlData(UPDATE_MANAGER, { token: manager.token, variables: { input: { id: manager.id, email: sub.email } } })).updateManager;
    expect(own).toMatchObject({ __typename: "ConflictError" });
    const otherManager = (await gqlData(UPDATE_MANAGER, { token: manager.token, variables: { input: { id: manager.id, email: w.manager.email } } }))
      .updateManager;
    expect(otherManager).toMatchObject({ __typename: "ConflictError" });
    const otherTree = (await gqlData(UPDATE_MANAGER, { token: manager.token, variables: { input: { id: manager.id, email: w.sub.email } } })).updateManager;
    expect(otherTree.__typename).toBe("UpdateManagerSuccess");
  });
});

describe("idempotency keys are scoped to the caller", () => {
  it("a sub-account using its manager's key on itself gets its own charge, not the manager's result; each replays its own", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    await fundCharges(sub.id);
    const key = "shared-key";
    const byManager = usageRecordId(result(await recordUsage(manager.token, { accountId: sub.id, idempotencyKey: key, quantity: 2 })));
    // Another input under the same string: for the sub-account it is a new key, not an IdempotencyConflictError.
    const bySub = usageRecordId(result(await recordUsage(sub.token, { accountId: sub.id, idempotencyKey: key, quantity: 3 })));
    expect(bySub).not.toBe(byManager);
    expect(usageRecordId(result(await recordUsage(manager.token, { accountId: sub.id, idempotencyKey: key, quantity: 2 })))).toBe(byManager);
    expect(usageRecordId(result(await recordUsage(sub.token, { accountId: sub.id, idempotencyKey: key, quantity: 3 })))).toBe(bySub);
    expect(await prisma.usageRecord.count({ where: { accountId: rowId(sub.id) } })).toBe(2);
    await expectInvariants([manager.id, sub.id]);
  });

  it("top-ups: the operator's, the manager's and the sub-account's use of one key on one balance are three payments", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    for (const token of [OPERATOR_TOKEN, manager.token, sub.token]) {
      expect(typenameOf(result(await topUpAs(token, { accountId: sub.id, amount: "1", idempotencyKey: "pay-1" })))).toBe("TopUpBalanceSuccess");
      // Its own replay adds nothing.
      expect(typenameOf(result(await topUpAs(token, { accountId: sub.id, amount: "1", idempotencyKey: "pay-1" })))).toBe("TopUpBalanceSuccess");
    }
    const balance = await gqlData(graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { balance { available { amount } } } } }`), {
      token: manager.token,
      variables: { id: sub.id },
    });
    if (!balance.node || !("balance" in balance.node)) throw new Error("the sub-account is out of its manager's reach");
    // available is null only for a rollup sub-account reading its own balance; this one has its own.
    expect(balance.node.balance.available?.amount).toBe("3.000000");
    await expectInvariants([sub.id]);
  });

  it("a createSubAccount replay after its sub-account was purged is a typed NotFoundError, every time", async () => {
    const manager = await createManager();
    const input = { email: uniqueEmail("purged"), idempotencyKey: "create-once" };
    const first = (await gqlData(CREATE_SUB, { token: manager.token, variables: { input } })).createSubAccount;
    if (first.__typename !== "CreateSubAccountSuccess") throw new Error(`createSubAccount: ${first.__typename}`);
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), {
      token: manager.token,
      variables: { id: first.subAccount.id },
    });
    // Backdate this account's closing rather than purge with a future clock,
    // which would purge other test files' closed accounts too.
    await prisma.account.update({ where: { id: dbId(first.subAccount.id) }, data: { closedAt: new Date(Date.now() - 31 * 24 * 3600 * 1000) } });
    expect((await purgeClosedSubAccounts()).purged).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 2; i++) {
      const replay = await gql(CREATE_SUB, { token: manager.token, variables: { input } });
      expect(replay.body.errors).toBeUndefined();
      expect(replay.body.data?.createSubAccount).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    }
  });
});

describe("a global id names one type: relabelled, it names nothing", () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld();
    await fundCharges(w.sub.id);
  });

  const relabel = (globalId: string, typename: string) => encodeGlobalID(typename, rowId(globalId));

  it("mutations naming a sub-account as a Manager (or a manager as a SubAccount) get NotFoundError and change nothing", async () => {
    const asManager = relabel(w.sub.id, "Manager");
    const asSub = relabel(w.manager.id, "SubAccount");
    const calls: [string, string, Record<string, unknown>][] = [
      ["createApiKey", "CreateApiKeyInput", { accountId: asManager, name: "relabelled" }],
      ["createApiKey", "CreateApiKeyInput", { accountId: asSub, name: "relabelled" }],
      ["recordUsage", "RecordUsageInput", { accountId: asManager, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: "relabel-1" }],
      ["topUpBalance", "TopUpBalanceInput", { accountId: asManager, amount: "1", idempotencyKey: "relabel-2" }],
      ["provisionPhoneNumber", "ProvisionPhoneNumberInput", { accountId: asManager, number: "+15005550123" }],
      ["transferBalance", "TransferBalanceInput", { fromAccountId: w.manager.id, toAccountId: asManager, amount: "1", idempotencyKey: "relabel-3" }],
      ["updateSubAccount", "UpdateSubAccountInput", { id: asSub, organizationName: "Relabelled" }],
      ["updateManager", "UpdateManagerInput", { id: asManager, organizationName: "Relabelled" }],
    ];
    const before = await prisma.auditEvent.count({ where: { treeManagerId: rowId(w.manager.id) } });
    for (const [mutation, type, input] of calls) {
      const res = await gql<TypenameAndCode>(`mutation($input: ${type}!) { ${mutation}(input: $input) { __typename ... on Error { code } } }`, {
        token: w.manager.token,
        variables: { input },
      });
      expect(res.body.data?.[mutation], `${mutation} ${JSON.stringify(input)}`).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
    }
    expect(await prisma.auditEvent.count({ where: { treeManagerId: rowId(w.manager.id) } })).toBe(before);
    expect(await prisma.apiKey.count({ where: { name: "relabelled" } })).toBe(0);
  });

  it("node and nodes answer null for a relabelled id, as for a missing one", async () => {
    const ids = [relabel(w.sub.id, "Manager"), relabel(w.manager.id, "SubAccount"), relabel(w.sub.id, "ApiKey"), relabel(w.sub.keyId, "PhoneNumber")];
    const data = await gqlData(graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`), { token: OPERATOR_TOKEN, variables: { ids } });
    expect(data.nodes).toEqual([null, null, null, null]);
  });
});

describe("the reach rule's SQL form and its Prisma form reach the same rows", () => {
  it("for every caller of a world with two trees", async () => {
    const w = await createWorld();
    const ids = [w.manager, w.sub, w.sibling, w.otherManager, w.otherSub].map((a) => rowId(a.id));
    const viewers: Record<string, Viewer> = { operator: (await authenticate(`Bearer ${OPERATOR_TOKEN}`, OPERATOR_TOKEN)).viewer };
    for (const name of ["manager", "sub", "sibling", "otherManager", "otherSub"] as const) {
      viewers[name] = (await authenticate(`Bearer ${w[name].token}`, OPERATOR_TOKEN)).viewer;
    }
    const expected: Record<string, string[]> = {
      operator: ids,
      manager: [ids[0]!, ids[1]!, ids[2]!],
      sub: [ids[1]!],
      sibling: [ids[2]!],
      otherManager: [ids[3]!, ids[4]!],
      otherSub: [ids[4]!],
    };
    for (const [name, viewer] of Object.entries(viewers)) {
      const viaPrisma = await prisma.account.findMany({
        where: within<Prisma.AccountWhereInput>({ id: { in: ids } }, reachableAccounts(viewer)),
        select: { id: true },
      });
      const viaSql = await runSql<{ id: string }>(
        `SELECT t."id" FROM "accounts" t WHERE t."id" = ANY($1::uuid[]) AND ${reachableAccountsSql(viewer.role, "$2")}`,
        [ids, ...reachableAccountsSqlValues(viewer)],
      );
      const sorted = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
      expect(sorted(viaPrisma), `${name} (Prisma)`).toEqual([...expected[name]!].sort());
      expect(sorted(viaSql), `${name} (SQL)`).toEqual([...expected[name]!].sort());
    }
  });
});
