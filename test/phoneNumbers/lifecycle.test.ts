// The end of the lifecycle: closing releases every number; the purge deletes
// closed sub-accounts with their data 30 days later (when the manager wants it).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { PURGE_AFTER_MS } from "../../src/domain/lifecycle.js";
import { purgeClosedSubAccounts } from "../../src/services/purge.js";
import { gqlData } from "../helpers/app.js";
import { createApiKey, createManager, createSubAccount, provisionNumber, type TestAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";
import { expectTypename, numbersOf, ownAuditEvents, release, result } from "./operations.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const close = (manager: TestAccount, sub: TestAccount) =>
  gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), { token: manager.token, variables: { id: sub.id } });
/** Moves a closed sub-account's closedAt into the past, as if it had been closed `days` days ago. */
const closedDaysAgo = (sub: TestAccount, days: number, now = new Date()) =>
  prisma.account.update({ where: { id: dbId(sub.id) }, data: { closedAt: new Date(now.getTime() - days * DAY_MS) } });

const SUB = graphql(`query($id: ID!) { node(id: $id) { ... on SubAccount { id status closedAt scheduledDeletionAt } } }`);
/** The sub-account as `token` sees it: null when out of reach (or purged). */
const subAsSeenBy = async (token: string, sub: TestAccount) => {
  const { node } = await gqlData(SUB, { token, variables: { id: sub.id } });
  if (node !== null && !("status" in node)) throw new Error(`not a sub-account: ${JSON.stringify(node)}`);
  return node;
};
/** A sub-account that must be visible to `token`. */
const visibleSub = async (token: string, sub: TestAccount) => {
  const seen = await subAsSeenBy(token, sub);
  expect(seen).not.toBeNull();
  return seen!;
};
/** A timestamp that must be set, in milliseconds. */
const timeOf = (iso: string | null) => {
  expect(iso).not.toBeNull();
  return Date.parse(iso!);
};

describe("closeSubAccount and phone numbers", () => {
  it("releases every active number of the account in the same transaction, and frees them for others", async () => {
    const manager = await createManager();
    const [sub, other] = await Promise.all([createSubAccount(manager), createSubAccount(manager)]);
    const a = await provisionNumber(sub.token, sub.id);
    const b = await provisionNumber(manager.token, sub.id);
    const earlier = await provisionNumber(sub.token, sub.id);
    const earlierReleasedAt = expectTypename(result(await release(sub.token, earlier.id)), "ReleasePhoneNumberSuccess").phoneNumber.releasedAt;
    const untouched = await provisionNumber(other.token, other.id);

    await close(manager, sub);
    const closedAt = (await visibleSub(manager.token, sub)).closedAt;
    expect(await numbersOf(manager.token, sub.id)).toEqual({ totalCount: 0, nodes: [] });
    const all = (await numbersOf(manager.token, sub.id, true))!;
    expect(all.totalCount).toBe(3);
    const byId = Object.fromEntries(all.nodes.map((n) => [n.id, n]));
    for (const n of [a, b]) expect(byId[n.id]).toMatchObject({ status: "RELEASED", releasedAt: closedAt });
    expect(byId[earlier.id]).toMatchObject({ status: "RELEASED", releasedAt: earlierReleasedAt });
    // Another account's numbers are not touched, and the released ones can be provisioned again.
    expect((await numbersOf(manager.token, other.id))!.nodes.map((n) => n.id)).toEqual([untouched.id]);
    await provisionNumber(manager.token, other.id, a.number);
    await provisionNumber(manager.token, manager.id, b.number);
    // Closing wrote its own audit event; releasing by closure is part of that change.
    const actions = (await ownAuditEvents(manager.token)).filter((e) => e.account?.id === sub.id).map((e) => e.action);
    expect(actions.filter((x) => x === "subAccount.close")).toHaveLength(1);
  });
});

/**
 * A tree for the purge: `doomed` (closed 31 days ago, auto-delete on, with
 * keys and numbers) must go; everything else must stay.
 */
async function purgeScenario(now: Date) {
  const manager = await createManager();
  const keeper = await createManager();
  const other = await createManager();
  const [doomed, open, recent] = await Promise.all([createSubAccount(manager), createSubAccount(manager), createSubAccount(manager)]);
  const [kept] = await Promise.all([createSubAccount(keeper)]);
  const [otherOpen, otherRecent] = await Promise.all([createSubAccount(other), createSubAccount(other)]);

  await createApiKey(manager.token, doomed.id, "second key");
  const doomedNumbers = [await provisionNumber(doomed.token, doomed.id), await provisionNumber(manager.token, doomed.id)];
  const openNumber = await provisionNumber(open.token, open.id);
  await provisionNumber(kept.token, kept.id);
  await provisionNumber(otherOpen.token, otherOpen.id);

  await gqlData(graphql(`mutation($id: ID!) { updateManager(input: { id: $id, autoDeleteClosedSubAccounts: false }) { __typename } }`), {
    token: keeper.token,
    variables: { id: keeper.id },
  });
  for (const [m, s] of [
    [manager, doomed],
    [manager, recent],
    [keeper, kept],
    [other, otherRecent],
  ] as const)
    await close(m, s);
  await closedDaysAgo(doomed, 31, now);
  await closedDaysAgo(recent, 29, now);
  await closedDaysAgo(kept, 400, now);
  return { manager, keeper, other, doomed, open, recent, kept, otherOpen, otherRecent, doomedNumbers, openNumber };
}
type Scenario = Awaited<ReturnType<typeof purgeScenario>>;

/** What must hold after a purge at `now`, whichever way it ran. */
async function expectPurged(s: Scenario, now: Date) {
  const doomedId = dbId(s.doomed.id);
  expect(await prisma.account.findUnique({ where: { id: doomedId } })).toBeNull();
  expect(await prisma.apiKey.count({ where: { accountId: doomedId } })).toBe(0);
  expect(await prisma.phoneNumber.count({ where: { accountId: doomedId } })).toBe(0);
  expect(await subAsSeenBy(s.manager.token, s.doomed)).toBeNull();
  for (const n of s.doomedNumbers) {
    expect((await gqlData(graphql(`query($id: ID!) { node(id: $id) { id } }`), { token: s.manager.token, variables: { id: n.id } })).node).toBeNull();
  }

  // Everything else is untouched.
  expect(await subAsSeenBy(s.manager.token, s.open)).toMatchObject({ status: "ACTIVE", scheduledDeletionAt: null });
  expect((await numbersOf(s.manager.token, s.open.id))!.nodes.map((n) => n.id)).toEqual([s.openNumber.id]);
  const recent = await visibleSub(s.manager.token, s.recent);
  expect(recent.status).toBe("CLOSED");
  expect(timeOf(recent.scheduledDeletionAt)).toBe(timeOf(recent.closedAt) + PURGE_AFTER_MS);
  expect(timeOf(recent.scheduledDeletionAt)).toBeGreaterThan(now.getTime());
  // Auto-delete off: kept however long ago it closed, with no deletion scheduled.
  expect(await subAsSeenBy(s.keeper.token, s.kept)).toMatchObject({ status: "CLOSED", scheduledDeletionAt: null });
  expect((await numbersOf(s.keeper.token, s.kept.id, true))!.totalCount).toBe(1);
  expect(await subAsSeenBy(s.other.token, s.otherOpen)).toMatchObject({ status: "ACTIVE" });
  expect(await subAsSeenBy(s.other.token, s.otherRecent)).toMatchObject({ status: "CLOSED" });
  expect((await numbersOf(s.other.token, s.otherOpen.id))!.totalCount).toBe(1);
}

describe("purge of closed sub-accounts", () => {
  it("deletes a sub-account closed more than 30 days ago with its keys and numbers; the manager keeps its audit events, with account null", async () => {
    const now = new Date();
    const s = await purgeScenario(now);
    const doomed = await visibleSub(s.manager.token, s.doomed);
    expect(timeOf(doomed.scheduledDeletionAt)).toBe(timeOf(doomed.closedAt) + PURGE_AFTER_MS);
    expect(timeOf(doomed.scheduledDeletionAt)).toBeLessThan(now.getTime());
    const eventsAboutDoomed = (await ownAuditEvents(s.manager.token)).filter((e) => e.account?.id === s.doomed.id);
    expect(eventsAboutDoomed.map((e) => e.action)).toEqual(
      expect.arrayContaining(["subAccount.create", "apiKey.create", "phoneNumber.provision", "subAccount.close"]),
    );

    const { purged } = await purgeClosedSubAccounts(now);
    expect(purged).toBeGreaterThanOrEqual(1);
    await expectPurged(s, now);

    const after = new Map((await ownAuditEvents(s.manager.token)).map((e) => [e.id, e]));
    for (const event of eventsAboutDoomed) expect(after.get(event.id)).toEqual({ ...event, account: null });
  });

  it("runs as a command: `tsx scripts/purge.ts --now <ISO date>` purges and reports what it did", async () => {
    const now = new Date();
    const s = await purgeScenario(now);
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const run = (args: string[]) =>
      promisify(execFile)("npx", ["tsx", "scripts/purge.ts", ...args], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL },
        timeout: 60_000,
      });

    const { stdout } = await run(["--now", now.toISOString()]);
    const report = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(report).toEqual({ message: "purge done", now: now.toISOString(), purged: expect.any(Number) });
    expect(report.purged).toBeGreaterThanOrEqual(1);
    await expectPurged(s, now);

    const bad = await run(["--now", "yesterday"]).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--now needs an ISO 8601 date");
  }, 300_000);
});
