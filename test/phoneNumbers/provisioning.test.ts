// Provisioning, releasing and listing phone numbers: input rules, the
// one-active-number rule under concurrency, and the account's status.
import { describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { parseGlobalId } from "../../src/schema/globalIds.js";
import { countStatements, errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld, provisionNumber, uniquePhoneNumber } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";
import { expectError, expectTypename, numbersOf, ownAuditEvents, PROVISION, provision, release, result } from "./operations.js";

/** Every phone number row of an account, straight from the database. */
const storedRows = (accountId: string) => prisma.phoneNumber.findMany({ where: { accountId: dbId(accountId) } });

describe("provisionPhoneNumber", () => {
  it("provisions an ACTIVE number with its friendly name and writes one audit event about the account", async () => {
    const { manager, sub } = await createWorld();
    const number = uniquePhoneNumber();
    const r = result(await provision(manager.token, { accountId: sub.id, number, friendlyName: "  Support line  " }));
    expect(r.__typename).toBe("ProvisionPhoneNumberSuccess");
    const { phoneNumber } = expectTypename(r, "ProvisionPhoneNumberSuccess");
    expect(phoneNumber).toMatchObject({ number, status: "ACTIVE", friendlyName: "Support line", releasedAt: null, account: { id: sub.id } });
    expect(parseGlobalId(phoneNumber.id)?.typename).toBe("PhoneNumber");

    const events = (await ownAuditEvents(manager.token)).filter((e) => e.action === "phoneNumber.provision");
    expect(events).toEqual([
      { id: expect.any(String), action: "phoneNumber.provision", actorRole: "MANAGER", actorApiKeyPrefix: expect.any(String), account: { id: sub.id } },
    ]);
    expect(manager.token.startsWith(events[0]!.actorApiKeyPrefix!)).toBe(true);
    // The sub-account sees the event about itself, whoever acted.
    expect((await ownAuditEvents(sub.token)).map((e) => e.action)).toContain("phoneNumber.provision");
  });

  it.each([
    ["12345"],
    ["+1 415 555"],
    ["+0123"],
    ["+1415555ABCD"],
    ["letters"],
    ["+1234567890123456"],
    [""],
    ["+1-415-555-0100"],
    ["+"],
    ["+1"],
    [" +14155550100"],
  ])("refuses %j as a number (BAD_USER_INPUT, never normalised) and stores nothing", async (bad) => {
    const manager = await createManager();
    const asVariable = await gql(PROVISION, { token: manager.token, variables: { input: { accountId: manager.id, number: bad } } });
    expect(errorCodes(asVariable)).toEqual(["BAD_USER_INPUT"]);
    expect(asVariable.body.data).toBeUndefined();
    const asLiteral = await gql(
      `mutation { provisionPhoneNumber(input: { accountId: ${JSON.stringify(manager.id)}, number: ${JSON.stringify(bad)} }) { __typename } }`,
      { token: manager.token },
    );
    expect(errorCodes(asLiteral)).toEqual(["BAD_USER_INPUT"]);
    expect(asLiteral.body.data).toBeUndefined();
    expect(await storedRows(manager.id)).toEqual([]);
  });

  it("accepts the longest E.164 number (15 digits) exactly as given", async () => {
    const manager = await createManager();
    const number = uniquePhoneNumber();
    expect(number).toMatch(/^\+[1-9][0-9]{14}$/);
    const r = expectTypename(result(await provision(manager.token, { accountId: manager.id, number })), "ProvisionPhoneNumberSuccess");
    expect(r.phoneNumber.number).toBe(number);
  });

  it("validates the friendly name like other names (ValidationError, nothing stored)", async () => {
    const manager = await createManager();
    for (const friendlyName of ["x".repeat(101), "", "   ", "bad\u0000name", "evil\u202Eeman"]) {
      const r = result(await provision(manager.token, { accountId: manager.id, number: uniquePhoneNumber(), friendlyName }));
      expect(r.__typename, JSON.stringify(friendlyName)).toBe("ValidationError");
      expect(expectTypename(r, "ValidationError").fieldErrors[0]?.path).toEqual(["friendlyName"]);
    }
    expect(await storedRows(manager.id)).toEqual([]);
    const ok = result(await provision(manager.token, { accountId: manager.id, number: uniquePhoneNumber(), friendlyName: "é".repeat(100) }));
    expect(expectTypename(ok, "ProvisionPhoneNumberSuccess").phoneNumber.friendlyName).toBe("é".repeat(100));
  });

  it("two concurrent provisions of the same number: exactly one wins, the others get ConflictError", async () => {
    const { manager, sub, sibling } = await createWorld();
    const number = uniquePhoneNumber();
    const attempts = [
      [manager.token, manager.id],
      [manager.token, sub.id],
      [sub.token, sub.id],
      [sibling.token, sibling.id],
      [OPERATOR_TOKEN, sibling.id],
      [manager.token, sibling.id],
    ] as const;
    const results = (await Promise.all(attempts.map(([token, accountId]) => provision(token, { accountId, number })))).map(result);
    const kinds = results.map((r) => r.__typename).sort();
    expect(kinds).toEqual(["ConflictError", "ConflictError", "ConflictError", "ConflictError", "ConflictError", "ProvisionPhoneNumberSuccess"]);
    for (const r of results.filter((x) => x.__typename === "ConflictError")) expect(expectError(r).code).toBe("CONFLICT");

    const rows = await prisma.phoneNumber.findMany({ where: { number } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "ACTIVE", activeNumber: number });
    // Losers left nothing behind, not even an audit event.
    const events = await prisma.auditEvent.count({ where: { action: "phoneNumber.provision", details: { path: ["number"], equals: number } } });
    expect(events).toBe(1);
  });

  it("a number active on another manager's account is a ConflictError too", async () => {
    const a = await createManager();
    const b = await createManager();
    const { number } = await provisionNumber(a.token, a.id);
    const r = result(await provision(b.token, { accountId: b.id, number }));
    expect(r).toEqual({ __typename: "ConflictError", code: "CONFLICT", message: expect.any(String) });
    expect(await storedRows(b.id)).toEqual([]);
  });

  it("refuses accounts that are not ACTIVE with AccountNotActiveError: suspended, closed, or under a suspended manager", async () => {
    const manager = await createManager();
    const [suspended, closed, underSuspendedManager] = await Promise.all([createSubAccount(manager), createSubAccount(manager), createSubAccount(manager)]);
    await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), {
      token: manager.token,
      variables: { id: suspended.id },
    });
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: closed.id } });

    const bySuspended = result(await provision(manager.token, { accountId: suspended.id, number: uniquePhoneNumber() }));
    expect(bySuspended).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    // A suspended sub-account can still read, but not provision for itself.
    const selfSuspended = result(await provision(suspended.token, { accountId: suspended.id, number: uniquePhoneNumber() }));
    expect(selfSuspended).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    const byClosed = result(await provision(manager.token, { accountId: closed.id, number: uniquePhoneNumber() }));
    expect(byClosed).toMatchObject({ __typename: "AccountNotActiveError", status: "CLOSED" });

    await gqlData(graphql(`mutation($id: ID!) { suspendManager(input: { id: $id }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { id: manager.id },
    });
    const underSuspended = result(await provision(underSuspendedManager.token, { accountId: underSuspendedManager.id, number: uniquePhoneNumber() }));
    expect(underSuspended).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });
    const managerItself = result(await provision(OPERATOR_TOKEN, { accountId: manager.id, number: uniquePhoneNumber() }));
    expect(managerItself).toMatchObject({ __typename: "AccountNotActiveError", status: "SUSPENDED" });

    for (const account of [manager, suspended, closed, underSuspendedManager]) expect(await storedRows(account.id)).toEqual([]);
  });

  it("an id of the wrong type, or not one of ours, is a NotFoundError", async () => {
    const manager = await createManager();
    const n = await provisionNumber(manager.token, manager.id);
    for (const accountId of [n.id, manager.keyId, "nonsense", ""]) {
      const r = result(await provision(manager.token, { accountId, number: uniquePhoneNumber() }));
      expect(r.__typename, accountId).toBe("NotFoundError");
    }
  });
});

describe("releasePhoneNumber", () => {
  it("releases a number, keeps it listed with includeReleased, and lets the same number be provisioned again as a new row", async () => {
    const { manager, sub, sibling } = await createWorld();
    const first = await provisionNumber(sub.token, sub.id);
    const released = result(await release(sub.token, first.id));
    expect(released.__typename).toBe("ReleasePhoneNumberSuccess");
    const { phoneNumber } = expectTypename(released, "ReleasePhoneNumberSuccess");
    expect(phoneNumber).toMatchObject({ id: first.id, number: first.number, status: "RELEASED", account: { id: sub.id } });
    expect(phoneNumber.releasedAt).not.toBeNull();
    expect(Date.parse(phoneNumber.releasedAt!)).toBeGreaterThanOrEqual(Date.parse(phoneNumber.createdAt));

    expect(await numbersOf(sub.token, sub.id)).toEqual({ totalCount: 0, nodes: [] });
    expect((await numbersOf(sub.token, sub.id, true))!.nodes.map((n) => [n.id, n.status])).toEqual([[first.id, "RELEASED"]]);

    // The number is free again: another account of the tree provisions it, as a new phone number.
    const again = await provisionNumber(manager.token, sibling.id, first.number);
    expect(again.id).not.toBe(first.id);
    const onSub = await provisionNumber(sub.token, sub.id);
    const all = (await numbersOf(sub.token, sub.id, true))!;
    expect(all.totalCount).toBe(2);
    expect(all.nodes.map((n) => n.id)).toEqual([onSub.id, first.id]); // newest first
    expect(await numbersOf(sub.token, sub.id)).toMatchObject({ totalCount: 1, nodes: [{ id: onSub.id }] });
    const rows = await prisma.phoneNumber.findMany({ where: { number: first.number }, orderBy: { createdAt: "asc" } });
    expect(rows.map((r) => [r.status, r.activeNumber])).toEqual([
      ["RELEASED", null],
      ["ACTIVE", first.number],
    ]);
  });

  it("releasing a released number is a ConflictError that changes nothing and writes no audit event", async () => {
    const manager = await createManager();
    const n = await provisionNumber(manager.token, manager.id);
    const releasedAt = expectTypename(result(await release(manager.token, n.id)), "ReleasePhoneNumberSuccess").phoneNumber.releasedAt;
    const before = (await ownAuditEvents(manager.token)).length;
    const again = result(await release(manager.token, n.id));
    expect(again).toEqual({ __typename: "ConflictError", code: "CONFLICT", message: expect.any(String) });
    expect((await numbersOf(manager.token, manager.id, true))!.nodes[0]?.releasedAt).toBe(releasedAt);
    expect((await ownAuditEvents(manager.token)).length).toBe(before);
  });

  it("writes a phoneNumber.release audit event about the owner, by the role and key that acted", async () => {
    const { manager, sub } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    result(await release(manager.token, n.id));
    const [event] = (await ownAuditEvents(manager.token)).filter((e) => e.action === "phoneNumber.release");
    expect(event).toMatchObject({ actorRole: "MANAGER", account: { id: sub.id } });
    expect(manager.token.startsWith(event!.actorApiKeyPrefix!)).toBe(true);
    // The sub-account sees the event about itself, but not its manager's key prefix.
    const [seenBySub] = (await ownAuditEvents(sub.token)).filter((e) => e.action === "phoneNumber.release");
    expect(seenBySub).toMatchObject({ actorRole: "MANAGER", actorApiKeyPrefix: null, account: { id: sub.id } });
  });

  it("a suspended account can still release its numbers", async () => {
    const { manager, sub } = await createWorld();
    const n = await provisionNumber(sub.token, sub.id);
    await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
    expect(expectTypename(result(await release(sub.token, n.id)), "ReleasePhoneNumberSuccess").phoneNumber.status).toBe("RELEASED");
  });
});

describe("Account.phoneNumbers", () => {
  it("pages newest first with first/after and counts the whole list", async () => {
    const manager = await createManager();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await provisionNumber(manager.token, manager.id)).id);
    const page = (after?: string) =>
      gqlData(
        graphql(`query($id: ID!, $after: String) { node(id: $id) { ... on Account { phoneNumbers(first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { id } } } } }`),
        { token: manager.token, variables: { id: manager.id, after } },
      ).then(({ node }) => {
        if (!node || !("phoneNumbers" in node)) throw new Error(`the account is out of reach: ${JSON.stringify(node)}`);
        return node.phoneNumbers;
      });
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await page(after);
      expect(p.totalCount).toBe(5);
      seen.push(...p.nodes.map((n) => n.id));
      if (!p.pageInfo.hasNextPage) break;
      expect(p.pageInfo.endCursor).not.toBeNull();
      after = p.pageInfo.endCursor!;
    }
    expect(seen).toEqual([...made].reverse());
  });

  it("refuses a page size out of 1..250 with BAD_USER_INPUT", async () => {
    const manager = await createManager();
    for (const first of [0, 251]) {
      const res = await gql(graphql(`query($id: ID!, $first: Int) { node(id: $id) { ... on Account { phoneNumbers(first: $first) { totalCount } } } }`), {
        token: manager.token,
        variables: { id: manager.id, first },
      });
      expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it("a manager's whole tree with every sub-account's numbers and counts is one SQL statement per list", async () => {
    const { manager, sub, sibling } = await createWorld();
    for (const account of [manager, sub, sub, sibling, sibling, sibling]) await provisionNumber(manager.token, account.id);
    await release(manager.token, (await provisionNumber(manager.token, sub.id)).id);
    const query = graphql(`{ viewer { account { ... on Manager { phoneNumbers { totalCount nodes { id } }
      subAccounts(first: 10) { totalCount nodes { id phoneNumbers(first: 50, includeReleased: true) {
        totalCount edges { cursor node { id number status friendlyName createdAt releasedAt account { id email } } } } } } } } } }`);
    await gqlData(query, { token: manager.token }); // the key's lastUsedAt write happens on first use
    await new Promise((r) => setTimeout(r, 200));
    const { result: data, statements } = await countStatements(() => gqlData(query, { token: manager.token }));
    const account = data.viewer.account;
    if (!account || !("subAccounts" in account)) throw new Error(`not a manager: ${JSON.stringify(account)}`);
    const counts = account.subAccounts.nodes.map((s) => s.phoneNumbers.totalCount).sort();
    expect(counts).toEqual([3, 3]);
    // Authenticate (with the caller's own account row), the manager's
    // numbers, its sub-accounts with all their numbers and counts (one
    // statement, src/read/prefetch.ts), and the numbers' accounts.
    expect(statements).toBe(4);
  });
});
