// Cursors name rows by id. A cursor naming a row of another tree must page
// exactly like a cursor naming a row that never existed (DOMAIN.md: an
// unreachable row does not exist for the caller), or be refused like any
// cursor that is not one of ours.
import { formatPrismaCursor } from "@pothos/plugin-prisma";
import { beforeAll, describe, expect, it } from "vitest";
import { parseGlobalId } from "../../src/schema/globalIds.js";
import { gql } from "../helpers/app.js";
import { createApiKey, createManager, createSubAccount, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

const cursorOf = (globalId: string) => formatPrismaCursor({ id: parseGlobalId(globalId)!.id }, "id");
const MISSING_CURSOR = formatPrismaCursor({ id: "00000000-0000-7000-8000-000000000000" }, "id");

let manager: TestAccount, subs: TestAccount[], otherManager: TestAccount, foreignSub: TestAccount;
beforeAll(async () => {
  manager = await createManager();
  subs = [];
  for (let i = 0; i < 3; i++) subs.push(await createSubAccount(manager));
  otherManager = await createManager();
  // Created after the manager's sub-accounts: newest first, every one of them comes "after" it.
  foreignSub = await createSubAccount(otherManager);
});

const SUBS_AFTER = graphql(
  `query($after: String) { viewer { account { ... on Manager { subAccounts(first: 10, after: $after) { totalCount nodes { id } pageInfo { hasNextPage } } } } } }`,
);
const KEYS_AFTER = graphql(`query($after: String) { viewer { account { apiKeys(first: 10, after: $after) { totalCount nodes { id } } } } }`);

describe("cursors naming rows out of reach", () => {
  it("Manager.subAccounts(after: cursor of a foreign sub-account) answers exactly like a cursor of a missing row", async () => {
    const foreign = await gql(SUBS_AFTER, { token: manager.token, variables: { after: cursorOf(foreignSub.id) } });
    const missing = await gql(SUBS_AFTER, { token: manager.token, variables: { after: MISSING_CURSOR } });
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
  });

  it("Account.apiKeys(after: cursor of a newer key of another tree) answers a sub-account exactly like a cursor of a missing row", async () => {
    // Two keys of its own (Prisma skips the cursor row, so with one key both answers would be empty by luck).
    await createApiKey(subs[0]!.token, subs[0]!.id, "second key");
    const newer = await createApiKey(otherManager.token, foreignSub.id, "newest key");
    const foreign = await gql(KEYS_AFTER, { token: subs[0]!.token, variables: { after: cursorOf(newer.id) } });
    const missing = await gql(KEYS_AFTER, { token: subs[0]!.token, variables: { after: MISSING_CURSOR } });
    expect(foreign.body).toEqual(missing.body);
  });
});
