// Text-filtered lists (`contains`) count and page their matches in one pass
// when there are at most MATCH_SET_LIMIT of them, and in two index scans past
// that (src/read/pages.ts loadPages). Both ways must answer the same pages,
// counts and cursors as the database holds them, for one parent or several,
// in every order, forwards and backwards.
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import type { SubAccountFilter, SubAccountSort } from "../../src/read/lists.js";
import { SUB_ACCOUNT_SORTS, SUB_ACCOUNTS, subAccountList } from "../../src/read/lists.js";
import { cursorOf, loadPages, MATCH_SET_LIMIT, type PageRequest } from "../../src/read/pages.js";
import { countStatements, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, type TestAccount, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

const tag = unique("match").replace("-", "");
const managers: TestAccount[] = [];

beforeAll(async () => {
  for (let m = 0; m < 2; m++) {
    const manager = await createManager();
    managers.push(manager);
    // Seven matches and two others per manager; the last match is closed.
    for (let i = 0; i < 9; i++) {
      const sub = await createSubAccount(manager, {
        email: i < 7 ? `${tag}-${m}-${i}@example.com` : `other-${m}-${i}-${unique("x")}@example.com`,
        organizationName: `Org ${i}`,
      });
      if (i === 6)
        await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), {
          token: manager.token,
          variables: { id: sub.id },
        });
    }
  }
});

/** The columns of a sub-account row the tests read. */
interface SubAccountRow {
  id: string;
  email: string;
}

const filter = (contains: string, includeClosed = false): SubAccountFilter => ({ email: { contains }, includeClosed });

/** The same request through one pass over the matches (the default) and through the two scans (a limit of 1). */
async function bothWays(request: PageRequest<SubAccountFilter>) {
  // Every request here reads the email (named in its columns, or whole rows).
  const onePass = await loadPages<SubAccountFilter, SubAccountRow>(subAccountList, request);
  const twoScans = await loadPages<SubAccountFilter, SubAccountRow>(subAccountList, request, undefined, { matchSetLimit: 1 });
  expect(twoScans).toEqual(onePass);
  return onePass;
}

describe("text-filtered pages", () => {
  it("answer what the database holds, in every order and direction, with and without counts, for one parent or two", async () => {
    expect(MATCH_SET_LIMIT).toBeGreaterThan(7);
    for (const parents of [[managers[0]!], managers]) {
      const parentIds = parents.map((p) => dbId(p.id));
      for (const sort of Object.keys(SUB_ACCOUNT_SORTS) as SubAccountSort[]) {
        const order = SUB_ACCOUNTS.order!({ sort });
        for (const includeClosed of [false, true]) {
          const request = { parentIds, filter: filter(tag, includeClosed), order, page: { first: 3 }, withCount: true, columns: ["email", "id", "kind"] };
          const pages = await bothWays(request);
          for (const parentId of parentIds) {
            const expected = await prisma.account.findMany({
              where: { managerId: parentId, email: { contains: tag }, ...(includeClosed ? {} : { status: { not: "CLOSED" } }) },
              orderBy: order.columns.map((c) => ({ [c]: order.direction.toLowerCase() })),
            });
            const page = pages.get(parentId)!;
            expect(page.totalCount).toBe(expected.length);
            expect(page.rows.map((r) => r.email)).toEqual(expected.slice(0, 3).map((a) => a.email));
            expect(page.hasMore).toBe(true);
            // The next page after the third row, and the page before it walking backwards.
            const third = page.rows[2] as { id: string };
            const next = (await bothWays({ ...request, parentIds: [parentId], page: { first: 3, after: cursorOf(third) } })).get(parentId)!;
            expect(next.rows.map((r) => r.email)).toEqual(expected.slice(3, 6).map((a) => a.email));
            const back = (await bothWays({ ...request, parentIds: [parentId], page: { last: 2, before: cursorOf(third) } })).get(parentId)!;
            expect(back.rows.map((r) => r.email)).toEqual(expected.slice(0, 2).map((a) => a.email));
          }
        }
      }
    }
  });

  it("a filter that matches nothing, or only another parent's rows, answers empty pages", async () => {
    const order = SUB_ACCOUNTS.order!({});
    const none = await bothWays({ parentIds: managers.map((m) => dbId(m.id)), filter: filter(unique("nothing")), order, page: { first: 5 }, withCount: true });
    for (const manager of managers) expect(none.get(dbId(manager.id))).toMatchObject({ rows: [], totalCount: 0, hasMore: false });
    const onlyFirst = await bothWays({ parentIds: managers.map((m) => dbId(m.id)), filter: filter(`${tag}-0-`), order, page: { first: 10 }, withCount: false });
    expect(onlyFirst.get(dbId(managers[0]!.id))!.rows).toHaveLength(6);
    expect(onlyFirst.get(dbId(managers[1]!.id))).toMatchObject({ rows: [], hasMore: false });
  });

  it("is still one statement through the API", async () => {
    const query =
      graphql(`query($contains: String!) { viewer { account { ... on Manager { subAccounts(first: 2, sort: EMAIL_ASC, filter: { email: { contains: $contains } }) {
      totalCount nodes { email phoneNumbers { totalCount } } } } } } }`);
    const { result, statements } = await countStatements(() => gqlData(query, { token: managers[1]!.token, variables: { contains: tag } }));
    const account = result.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`expected the manager's account, got ${JSON.stringify(account)}`);
    expect(account.subAccounts.totalCount).toBe(6);
    expect(account.subAccounts.nodes.map((n) => n.email)).toEqual([`${tag}-1-0@example.com`, `${tag}-1-1@example.com`]);
    expect(statements).toBe(2);
  });
});
