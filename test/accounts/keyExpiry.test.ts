// Keys that expire and keys that roll (DOMAIN.md "Least-privilege keys"): an
// expired key and a rolled-out secret are the same 401 as an unknown key
// from their second on; a key that expires creates and rolls only keys that
// expire no later; a key of another account cannot be rolled.
import { describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, createWorld } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

const CREATE_KEY = graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on CreateApiKeySuccess { secret apiKey { id name expiresAt } } ... on Error { code message } } }`);
const ROLL = graphql(`mutation($input: RollApiKeyInput!) { rollApiKey(input: $input) {
  __typename ... on RollApiKeySuccess { secret apiKey { id name expiresAt } previous { id expiresAt } } ... on Error { code message } } }`);
const WHO = graphql(`query { viewer { role } }`);
const KEYS = graphql(`query($id: ID!) { node(id: $id) { ... on Account { apiKeys(first: 50) { nodes { id name expiresAt } } } } }`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const status = async (token: string) => (await gql(WHO, { token })).status;
/** The 401 an unknown key gets, to compare every refusal with. */
const unknownKeyAnswer = async () => {
  const res = await gql(WHO, { token: `agk_${"0".repeat(64)}` });
  return { status: res.status, body: res.body, challenge: res.headers.get("www-authenticate") };
};

async function createKey(token: string, accountId: string, expiresAt?: Date) {
  const { createApiKey } = await gqlData(CREATE_KEY, { token, variables: { input: { accountId, name: "expiring", expiresAt: expiresAt?.toISOString() } } });
  return createApiKey;
}

/** Sleeps until `at` plus a little (the server compares with its own clock, to the millisecond). */
const until = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now()) + 50);

describe("keys that expire", () => {
  it("works until expiresAt, then is the same 401 as an unknown key", async () => {
    const manager = await createManager();
    const expiresAt = new Date(Date.now() + 1500);
    const created = await createKey(manager.token, manager.id, expiresAt);
    if (created.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(created));
    expect(new Date(created.apiKey.expiresAt!).getTime()).toBe(expiresAt.getTime());
    expect(await status(created.secret)).toBe(200);
    await until(expiresAt);
    const expired = await gql(WHO, { token: created.secret });
    const unknown = await unknownKeyAnswer();
    expect({ status: expired.status, body: expired.body, challenge: expired.headers.get("www-authenticate") }).toEqual(unknown);
  });

  it("refuses an expiry in the past or too far away, and a key that would outlive its creator", async () => {
    const manager = await createManager();
    for (const at of [new Date(Date.now() - 1000), new Date(Date.now() + 11 * 365 * 24 * 3600 * 1000)]) {
      expect(await createKey(manager.token, manager.id, at)).toMatchObject({ __typename: "ValidationError" });
    }
    const short = await createKey(manager.token, manager.id, new Date(Date.now() + 60_000));
    if (short.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(short));
    const before = await prisma.apiKey.count({ where: { accountId: dbId(manager.id) } });
    // Later than its own expiry, or none at all: ForbiddenError, nothing created.
    expect(await createKey(short.secret, manager.id, new Date(Date.now() + 120_000))).toMatchObject({ __typename: "ForbiddenError" });
    expect(await createKey(short.secret, manager.id)).toMatchObject({ __typename: "ForbiddenError" });
    expect(await prisma.apiKey.count({ where: { accountId: dbId(manager.id) } })).toBe(before);
    // No later than its own: fine.
    expect(await createKey(short.secret, manager.id, new Date(Date.now() + 30_000))).toMatchObject({ __typename: "CreateApiKeySuccess" });
  });
});

describe("rollApiKey", () => {
  it("issues a new secret with the same name and expiry; the current one works for the overlap, then is a 401", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const created = await createKey(manager.token, sub.id);
    if (created.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(created));
    const { rollApiKey } = await gqlData(ROLL, { token: manager.token, variables: { input: { id: created.apiKey.id, expireCurrentInSeconds: 2 } } });
    if (rollApiKey.__typename !== "RollApiKeySuccess") throw new Error(JSON.stringify(rollApiKey));
    expect(rollApiKey.apiKey).toMatchObject({ name: "expiring", expiresAt: null });
    expect(rollApiKey.previous.id).toBe(created.apiKey.id);
    const overlapEnds = new Date(rollApiKey.previous.expiresAt!);
    expect(Math.abs(overlapEnds.getTime() - (Date.now() + 2000))).toBeLessThan(1500);
    expect(await status(created.secret)).toBe(200);
    expect(await status(rollApiKey.secret)).toBe(200);
    // Both are listed.
    const { node } = await gqlData(KEYS, { token: manager.token, variables: { id: sub.id } });
    const listed = node && "apiKeys" in node ? node.apiKeys.nodes.map((k) => k.id) : [];
    expect(listed).toEqual(expect.arrayContaining([created.apiKey.id, rollApiKey.apiKey.id]));
    await until(overlapEnds);
    expect(await status(created.secret)).toBe(401);
    expect(await status(rollApiKey.secret)).toBe(200);
    // An expired key cannot be rolled again.
    const again = await gqlData(ROLL, { token: manager.token, variables: { input: { id: created.apiKey.id } } });
    expect(again.rollApiKey).toMatchObject({ __typename: "ValidationError" });
  });

  it("rolls at once with 0 seconds, refuses overlaps outside 0..7 days, and keys of another tree are not found", async () => {
    const w = await createWorld();
    const created = await createKey(w.manager.token, w.sub.id);
    if (created.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(created));
    for (const seconds of [-1, 604_801]) {
      const res = await gqlData(ROLL, { token: w.manager.token, variables: { input: { id: created.apiKey.id, expireCurrentInSeconds: seconds } } });
      expect(res.rollApiKey, String(seconds)).toMatchObject({ __typename: "ValidationError" });
    }
    // Another account's key: the sibling, the foreign manager, the foreign sub-account cannot roll it.
    for (const token of [w.sibling.token, w.otherManager.token, w.otherSub.token]) {
      const res = await gqlData(ROLL, { token, variables: { input: { id: created.apiKey.id } } });
      expect(res.rollApiKey).toMatchObject({ __typename: "NotFoundError" });
    }
    expect(await status(created.secret)).toBe(200);
    const { rollApiKey } = await gqlData(ROLL, { token: w.sub.token, variables: { input: { id: created.apiKey.id, expireCurrentInSeconds: 0 } } });
    expect(rollApiKey.__typename).toBe("RollApiKeySuccess");
    expect(await status(created.secret)).toBe(401);
    // A key that expires cannot roll a key that does not (the new one would outlive it).
    const short = await createKey(w.manager.token, w.manager.id, new Date(Date.now() + 60_000));
    if (short.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(short));
    const forever = await createKey(w.manager.token, w.sub.id);
    if (forever.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(forever));
    const refused = await gqlData(ROLL, { token: short.secret, variables: { input: { id: forever.apiKey.id } } });
    expect(refused.rollApiKey).toMatchObject({ __typename: "ForbiddenError" });
    expect(errorCodes(await gql(WHO, { token: OPERATOR_TOKEN }))).toEqual([]);
  });
});
