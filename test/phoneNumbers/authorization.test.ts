// The authorization matrix for phone numbers: every role on every path.
import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { beforeAll, describe, expect, it } from "vitest";
import { errorCodes, type GqlResponse, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createWorld, provisionNumber, uniquePhoneNumber, type World } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { missingId } from "../helpers/ids.js";
import { numbersOf, provision, release, result, transfer } from "./operations.js";

type Role = "operator" | "manager" | "otherManager" | "sub" | "sibling";
type Owner = "manager" | "sub" | "sibling" | "otherSub";

let world: World;
let numbers: Record<Owner, { id: string; number: string }>;
const token = (role: Role) => (role === "operator" ? OPERATOR_TOKEN : world[role].token);
const accountOf = (owner: Owner | "otherManager") => world[owner].id;

/** Which numbers each role reaches: its own, and for a manager everything in its tree. */
const REACHES: Record<Role, Owner[]> = {
  operator: ["manager", "sub", "sibling", "otherSub"],
  manager: ["manager", "sub", "sibling"],
  otherManager: ["otherSub"],
  sub: ["sub"],
  sibling: ["sibling"],
};
const ROLES = Object.keys(REACHES) as Role[];
const OWNERS: Owner[] = ["manager", "sub", "sibling", "otherSub"];

beforeAll(async () => {
  world = await createWorld();
  const [m, s, sib, other] = await Promise.all([
    provisionNumber(world.manager.token, world.manager.id),
    provisionNumber(world.sub.token, world.sub.id),
    provisionNumber(world.manager.token, world.sibling.id),
    provisionNumber(world.otherManager.token, world.otherSub.id),
  ]);
  numbers = { manager: m, sub: s, sibling: sib, otherSub: other };
});

const NODE = graphql(`query($id: ID!) { node(id: $id) { __typename id ... on PhoneNumber { number status account { id } } } }`);

/** The phone number `id` as an operator sees it; fails the test if it is not a readable phone number. */
async function numberAsOperator(id: string) {
  const { node } = await gqlData(NODE, { token: OPERATOR_TOKEN, variables: { id } });
  if (!node || !("account" in node)) throw new Error(`not a phone number: ${JSON.stringify(node)}`);
  return node;
}

describe("PhoneNumber reads", () => {
  it("node returns a reachable number with its owner, and null, exactly as for a missing id, for anything else", async () => {
    const missing = await gql(NODE, { token: OPERATOR_TOKEN, variables: { id: missingId("PhoneNumber") } });
    expect(missing.body).toEqual({ data: { node: null } });
    for (const role of ROLES) {
      for (const owner of OWNERS) {
        const res = await gql(NODE, { token: token(role), variables: { id: numbers[owner].id } });
        if (REACHES[role].includes(owner)) {
          expect(res.body, `${role} reads ${owner}'s number`).toEqual({
            data: {
              node: { __typename: "PhoneNumber", id: numbers[owner].id, number: numbers[owner].number, status: "ACTIVE", account: { id: accountOf(owner) } },
            },
          });
        } else {
          expect(res.body, `${role} reads ${owner}'s number`).toEqual(missing.body);
        }
      }
    }
  });

  it("nodes returns reachable numbers in order and null in the place of unreachable or missing ones", async () => {
    const ids = [...OWNERS.map((o) => numbers[o].id), missingId("PhoneNumber"), "not-a-global-id"];
    for (const role of ROLES) {
      const data = await gqlData(graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`), { token: token(role), variables: { ids } });
      expect(data.nodes, role).toEqual([...OWNERS.map((o) => (REACHES[role].includes(o) ? { id: numbers[o].id } : null)), null, null]);
    }
  });

  it("Account.phoneNumbers lists and counts a reachable account's numbers; an unreachable account is null", async () => {
    const accounts: (Owner | "otherManager")[] = ["manager", "sub", "sibling", "otherSub", "otherManager"];
    const owns = (account: Owner | "otherManager") => (account === "otherManager" ? [] : [account]);
    const reachesAccount: Record<Role, (Owner | "otherManager")[]> = {
      operator: accounts,
      manager: ["manager", "sub", "sibling"],
      otherManager: ["otherManager", "otherSub"],
      sub: ["sub"],
      sibling: ["sibling"],
    };
    for (const role of ROLES) {
      for (const account of accounts) {
        const list = await numbersOf(token(role), accountOf(account));
        if (!reachesAccount[role].includes(account)) {
          expect(list, `${role} lists ${account}'s numbers`).toBeNull();
          continue;
        }
        const expected = owns(account).map((o) => numbers[o as Owner].id);
        expect(
          list!.nodes.map((n) => n.id),
          `${role} lists ${account}'s numbers`,
        ).toEqual(expected);
        expect(list!.totalCount, `${role} counts ${account}'s numbers`).toBe(expected.length);
      }
    }
  });

  it("nested through the tree, a manager sees each sub-account's own numbers and counts, and no one else's", async () => {
    const data = await gqlData(
      graphql(`{ viewer { account { ... on Manager { phoneNumbers { totalCount nodes { id } }
          subAccounts(first: 250) { nodes { id phoneNumbers { totalCount nodes { id account { id } } } } } } } } }`),
      { token: world.manager.token },
    );
    const manager = data.viewer.account;
    if (!manager || !("subAccounts" in manager)) throw new Error(`not a manager: ${JSON.stringify(manager)}`);
    expect(manager.phoneNumbers).toEqual({ totalCount: 1, nodes: [{ id: numbers.manager.id }] });
    const byId = Object.fromEntries(manager.subAccounts.nodes.map((s) => [s.id, s.phoneNumbers]));
    expect(Object.keys(byId).sort()).toEqual([world.sub.id, world.sibling.id].sort());
    expect(byId[world.sub.id]).toEqual({ totalCount: 1, nodes: [{ id: numbers.sub.id, account: { id: world.sub.id } }] });
    expect(byId[world.sibling.id]).toEqual({ totalCount: 1, nodes: [{ id: numbers.sibling.id, account: { id: world.sibling.id } }] });
  });

  it("a sub-account sees its own numbers through viewer, and its manager's are out of reach", async () => {
    const data = await gqlData(graphql(`{ viewer { account { phoneNumbers { totalCount nodes { id } } } } }`), { token: world.sub.token });
    expect(data.viewer.account).not.toBeNull();
    expect(data.viewer.account!.phoneNumbers).toEqual({ totalCount: 1, nodes: [{ id: numbers.sub.id }] });
    expect(await numbersOf(world.sub.token, world.manager.id)).toBeNull();
  });

  it("anonymous requests get 401 UNAUTHENTICATED on every read path", async () => {
    const variables = { id: numbers.sub.id };
    // One request per read path (the documents' result types differ, so each gets its own call).
    for (const send of [
      () => gql(NODE, { variables }),
      () => gql(graphql(`query($id: ID!) { nodes(ids: [$id]) { id } }`), { variables }),
      () => gql(graphql(`query($id: ID!) { node(id: $id) { ... on Account { phoneNumbers { totalCount } } } }`), { variables }),
    ]) {
      const res = await send();
      expect(res.status).toBe(401);
      expect(errorCodes(res)).toEqual(["UNAUTHENTICATED"]);
      expect(res.body.data).toBeUndefined();
    }
  });
});

describe("PhoneNumber mutations", () => {
  type Outcome = "success" | "NOT_FOUND" | "FORBIDDEN" | "UNAUTHENTICATED" | "NOT_IN_SCHEMA";
  const ALL_ROLES = [...ROLES, "anonymous"] as const;
  const tokenOf = (role: (typeof ALL_ROLES)[number]) => (role === "anonymous" ? null : token(role));

  /** What expectOutcome reads of a mutation result: every member has a __typename, the errors a code. */
  type MutationResult = { __typename: string; code?: string };

  async function expectOutcome(res: GqlResponse<Record<string, MutationResult>>, outcome: Outcome, label: string) {
    if (outcome === "UNAUTHENTICATED") {
      expect(res.status, label).toBe(401);
      expect(errorCodes(res), label).toEqual(["UNAUTHENTICATED"]);
      return;
    }
    if (outcome === "NOT_IN_SCHEMA") {
      // The role's schema leaves the mutation (and its result types) out: FORBIDDEN before anything runs.
      expect(new Set(errorCodes(res)), label).toEqual(new Set(["FORBIDDEN"]));
      expect(res.body.data ?? null, label).toBeNull();
      return;
    }
    const r = result(res);
    if (outcome === "success") expect(r.__typename, label).toMatch(/Success$/);
    else expect(r.code, `${label}: ${JSON.stringify(r)}`).toBe(outcome);
  }

  it("provisionPhoneNumber: the account itself, its manager or an operator; NotFoundError for anyone else", async () => {
    const expected: Record<string, Record<"sub" | "manager", Outcome>> = {
      operator: { sub: "success", manager: "success" },
      manager: { sub: "success", manager: "success" },
      otherManager: { sub: "NOT_FOUND", manager: "NOT_FOUND" },
      sub: { sub: "success", manager: "NOT_FOUND" },
      sibling: { sub: "NOT_FOUND", manager: "NOT_FOUND" },
      anonymous: { sub: "UNAUTHENTICATED", manager: "UNAUTHENTICATED" },
    };
    for (const role of ALL_ROLES) {
      for (const target of ["sub", "manager"] as const) {
        const number = uniquePhoneNumber();
        const res = await provision(tokenOf(role), { accountId: world[target].id, number });
        const outcome = expected[role]![target];
        await expectOutcome(res, outcome, `${role} provisions on ${target}`);
        const stored = (await numbersOf(OPERATOR_TOKEN, world[target].id))!.nodes.filter((n) => n.number === number);
        expect(stored.length, `${role} provisions on ${target}: stored`).toBe(outcome === "success" ? 1 : 0);
      }
    }
  });

  it("the NotFoundError for an unreachable account is the one for an account that does not exist", async () => {
    const foreign = result(await provision(world.sibling.token, { accountId: world.sub.id, number: uniquePhoneNumber() }));
    const missing = result(await provision(world.sibling.token, { accountId: encodeGlobalID("SubAccount", randomUUID()), number: uniquePhoneNumber() }));
    expect(foreign).toEqual(missing);
  });

  it("transferPhoneNumber: managers and operators; not in a sub-account's schema; NotFoundError for a foreign manager", async () => {
    const expected: Record<string, Outcome> = {
      operator: "success",
      manager: "success",
      otherManager: "NOT_FOUND",
      sub: "NOT_IN_SCHEMA",
      sibling: "NOT_IN_SCHEMA",
      anonymous: "UNAUTHENTICATED",
    };
    for (const role of ALL_ROLES) {
      const n = await provisionNumber(world.sub.token, world.sub.id);
      const res = await transfer(tokenOf(role), n.id, world.sibling.id);
      await expectOutcome(res, expected[role]!, `${role} transfers sub -> sibling`);
      const owner = await numberAsOperator(n.id);
      expect(owner.account.id, `${role}: owner afterwards`).toBe(expected[role] === "success" ? world.sibling.id : world.sub.id);
    }
    // The sibling cannot pull a number out of the sub either, even towards itself.
    const n = await provisionNumber(world.sub.token, world.sub.id);
    await expectOutcome(await transfer(world.sibling.token, n.id, world.sibling.id), "NOT_IN_SCHEMA", "sibling pulls sub -> sibling");
  });

  it("releasePhoneNumber: the owner, its manager or an operator; NotFoundError for anyone else", async () => {
    const expected: Record<string, Outcome> = {
      operator: "success",
      manager: "success",
      otherManager: "NOT_FOUND",
      sub: "success",
      sibling: "NOT_FOUND",
      anonymous: "UNAUTHENTICATED",
    };
    for (const role of ALL_ROLES) {
      const n = await provisionNumber(world.sub.token, world.sub.id);
      const res = await release(tokenOf(role), n.id);
      await expectOutcome(res, expected[role]!, `${role} releases the sub's number`);
      const after = await numberAsOperator(n.id);
      expect(after.status, `${role}: status afterwards`).toBe(expected[role] === "success" ? "RELEASED" : "ACTIVE");
    }
  });

  it("mutation results never reveal a number out of reach: the same NotFoundError as a missing id", async () => {
    const missing = result(await release(world.otherManager.token, missingId("PhoneNumber")));
    expect(result(await release(world.otherManager.token, numbers.sub.id))).toEqual(missing);
    expect(result(await transfer(world.otherManager.token, numbers.sub.id, world.otherSub.id))).toEqual(
      result(await transfer(world.otherManager.token, missingId("PhoneNumber"), world.otherSub.id)),
    );
  });
});
