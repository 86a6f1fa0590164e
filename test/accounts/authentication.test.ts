import { print } from "graphql";
import { describe, expect, it } from "vitest";
import { settleKeyUsage } from "../../src/auth/authenticate.js";
import { API_KEY_PREFIX_LENGTH, hashSecret } from "../../src/auth/secrets.js";
import { prisma } from "../../src/db/client.js";
import { app, countStatements, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

const VIEWER = graphql(`{ viewer { role account { id } apiKey { id prefix lastUsedAt } } }`);

/**
 * The pieces of `secret` that must never be stored or shown: every substring of
 * `length` characters with at least one character past the public prefix.
 * (Shorter pieces would match by chance in hex hashes, uuids and dates.)
 */
function secretPieces(secret: string, length = 6): string[] {
  const pieces: string[] = [];
  for (let end = Math.max(API_KEY_PREFIX_LENGTH + 1, length); end <= secret.length; end++) pieces.push(secret.slice(end - length, end));
  return pieces;
}

/** Fails the test if `text` holds the secret or any piece of its non-public part. */
function expectNoSecretIn(text: string, secret: string, label: string) {
  expect(text, label).not.toContain(secret);
  for (const piece of secretPieces(secret)) expect(text.includes(piece), `${label} holds ${JSON.stringify(piece)} of the secret`).toBe(false);
}

async function expectUnauthenticated(authorization: string | undefined) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await app.fetch("http://gateway.test/graphql", { method: "POST", headers, body: JSON.stringify({ query: print(VIEWER) }) });
  expect(response.status).toBe(401);
  const body = await response.json();
  expect(body.data).toBeUndefined();
  expect(body.errors).toEqual([{ message: "Missing or invalid credentials", extensions: { code: "UNAUTHENTICATED" } }]);
}

describe("authentication", () => {
  it("answers 401 UNAUTHENTICATED with one message for a missing, malformed or unknown credential", async () => {
    await expectUnauthenticated(undefined);
    await expectUnauthenticated("");
    await expectUnauthenticated("Bearer");
    await expectUnauthenticated("Basic dXNlcjpwYXNz");
    await expectUnauthenticated(`Bearer ${OPERATOR_TOKEN}x`);
    await expectUnauthenticated(`Bearer agk_${"A".repeat(43)}`);
    await expectUnauthenticated("Bearer ' OR 1=1 --");
    await expectUnauthenticated(`Bearer ${"x".repeat(5000)}`);
  });

  it("authenticates the operator by OPERATOR_TOKEN with no account or key", async () => {
    const data = await gqlData(VIEWER, { token: OPERATOR_TOKEN });
    expect(data.viewer).toEqual({ role: "OPERATOR", account: null, apiKey: null });
  });

  it("authenticates manager and sub-account keys, shows the key's prefix, records lastUsedAt", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const m = await gqlData(VIEWER, { token: manager.token });
    expect(m.viewer.role).toBe("MANAGER");
    expect(m.viewer.account?.id).toBe(manager.id);
    expect(m.viewer.apiKey).not.toBeNull();
    const managerKey = m.viewer.apiKey!;
    expect(manager.token.startsWith(managerKey.prefix)).toBe(true);
    expect(managerKey.prefix.length).toBeLessThan(manager.token.length / 2);
    const s = await gqlData(VIEWER, { token: sub.token });
    expect(s.viewer.role).toBe("SUB_ACCOUNT");
    expect(s.viewer.account?.id).toBe(sub.id);
    // lastUsedAt is written after the first authenticated request.
    await new Promise((r) => setTimeout(r, 200));
    const again = await gqlData(VIEWER, { token: sub.token });
    expect(again.viewer.apiKey).not.toBeNull();
    expect(again.viewer.apiKey!.lastUsedAt).not.toBeNull();
  });

  it("writes a key's lastUsedAt once for a burst of concurrent requests, not once per request", async () => {
    const manager = await createManager(); // its key has never been used
    const { statements } = await countStatements(async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => gqlData(graphql("{ viewer { role } }"), { token: manager.token })));
      expect(answers.every((a) => a.viewer.role === "MANAGER")).toBe(true);
      await settleKeyUsage();
    });
    // 20 authentications and a single write of lastUsedAt (Prisma's
    // updateMany: at most 3 statements with its transaction), not 20 writes.
    expect(statements).toBeLessThanOrEqual(20 + 3);
    const seen = await gqlData(VIEWER, { token: manager.token });
    expect(seen.viewer.apiKey).not.toBeNull();
    expect(seen.viewer.apiKey!.lastUsedAt).not.toBeNull();
  });

  it("refuses a revoked key and the keys of a closed sub-account with the same 401", async () => {
    const manager = await createManager();
    const sub = await createSubAccount(manager);
    const revoke = await gqlData(
      graphql(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { __typename ... on RevokeApiKeySuccess { apiKey { revokedAt } } } }`),
      { token: manager.token, variables: { id: sub.keyId } },
    );
    const revoked = revoke.revokeApiKey;
    if (revoked.__typename !== "RevokeApiKeySuccess") throw new Error(`expected RevokeApiKeySuccess, got ${JSON.stringify(revoked)}`);
    expect(revoked.apiKey.revokedAt).not.toBeNull();
    await expectUnauthenticated(`Bearer ${sub.token}`);

    const other = await createSubAccount(manager);
    await gqlData(graphql(`mutation($id: ID!) { closeSubAccount(input: { id: $id }) { __typename } }`), {
      token: manager.token,
      variables: { id: other.id },
    });
    await expectUnauthenticated(`Bearer ${other.token}`);
  });

  it("never stores or returns a secret after creation", async () => {
    const manager = await createManager();
    const secret = manager.token;
    const res = await gql(graphql(`{ viewer { apiKey { id name prefix } } }`), { token: secret });
    // The answer is about this very key (so the check below looks at something), and shows only its public prefix.
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer.apiKey).toMatchObject({ id: manager.keyId, prefix: secret.slice(0, API_KEY_PREFIX_LENGTH) });
    expectNoSecretIn(JSON.stringify(res.body), secret, "the answer");

    // The stored row: no column holds the secret or a piece of its non-public part; the hash is a hash.
    const row = await prisma.apiKey.findUnique({ where: { id: dbId(manager.keyId) } });
    expect(row).not.toBeNull();
    for (const [column, value] of Object.entries(row!)) {
      if (value === null) continue;
      expectNoSecretIn(value instanceof Date ? value.toISOString() : String(value), secret, `api_keys.${column}`);
    }
    expect(row!.prefix).toBe(secret.slice(0, API_KEY_PREFIX_LENGTH));
    expect(row!.secretHash).not.toBe(secret);
    expect(row!.secretHash).toBe(hashSecret(secret));
  });
});
