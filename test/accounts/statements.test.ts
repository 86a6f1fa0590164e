// "No N+1" is asserted, not hoped: the nested tree costs the same number of
// SQL statements for 5 and for 200 sub-accounts.
import { describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { prisma } from "../../src/db/client.js";
import { countStatements, gqlData } from "../helpers/app.js";
import { createManager, unique } from "../helpers/factories.js";
import { graphql, type ResultOf } from "../helpers/graphql.js";

async function managerWithSubAccounts(count: number) {
  const manager = await createManager();
  const managerId = Buffer.from(manager.id, "base64").toString().split(":")[1]!;
  const tag = unique("tree");
  // Bulk-made (the API path is covered elsewhere); two keys each.
  await prisma.account.createMany({
    data: Array.from({ length: count }, (_, i) => ({ kind: "SUB_ACCOUNT" as const, managerId, email: `${tag}-${i}@example.com` })),
  });
  const subs = await prisma.account.findMany({ where: { managerId }, select: { id: true } });
  await prisma.apiKey.createMany({
    data: subs.flatMap((s, i) => [0, 1].map((k) => ({ accountId: s.id, name: `k${k}`, prefix: "agk_test", secretHash: `${tag}-${i}-${k}` }))),
  });
  return manager;
}

const TREE = graphql(`{ viewer { account { id email ... on Manager {
  subAccounts(first: 250) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id email status effectiveStatus managerEmail
      apiKeys { totalCount nodes { id name prefix createdAt } } } } } } } } }`);

/** The sub-accounts page of a TREE answer; fails the test unless the viewer is a manager. */
const subAccountsOf = ({ viewer: { account } }: ResultOf<typeof TREE>) => {
  if (!account || !("subAccounts" in account)) throw new Error(`not a manager: ${JSON.stringify(account)}`);
  return account.subAccounts;
};

describe("SQL statements per request", () => {
  it("the tree manager -> sub-accounts -> api keys costs a constant number of statements", async () => {
    const small = await managerWithSubAccounts(5);
    const large = await managerWithSubAccounts(200);
    // Warm up (the first request of a key also writes lastUsedAt, unawaited:
    // let those writes finish so they do not land in a counted request).
    await gqlData(TREE, { token: small.token });
    await gqlData(TREE, { token: large.token });
    await settleKeyUsage();
    const a = await countStatements(() => gqlData(TREE, { token: small.token }));
    const b = await countStatements(() => gqlData(TREE, { token: large.token }));
    expect(subAccountsOf(a.result).edges).toHaveLength(5);
    expect(subAccountsOf(b.result).edges).toHaveLength(200);
    expect(subAccountsOf(b.result).edges[0]?.node.apiKeys.totalCount).toBe(2);
    expect(b.statements).toBe(a.statements);
    // Authenticate (with the caller's own account row), then the page of
    // sub-accounts with its count and, in the same statement, every
    // sub-account's API keys with their counts (src/read/prefetch.ts).
    expect(a.statements).toBe(2);
  });
});
