import { GraphQLError } from "graphql";
import { LRUCache } from "lru-cache";
import { prisma } from "../db/client.js";
import { runSql } from "../db/sql.js";
import type { Account, AccountStatus } from "../generated/prisma/client.js";
import { tableOf } from "../read/tables.js";
import { parseGlobalId } from "../schema/globalIds.js";
import type { Permission } from "./actions.js";
import { hashSecret, looksLikeApiKeySecret, secretsEqual } from "./secrets.js";
import type { Viewer } from "./viewer.js";

/** One message for every failure, so a response reveals nothing about why. */
export const UNAUTHENTICATED_MESSAGE = "Missing or invalid credentials";

export function unauthenticated(): GraphQLError {
  return new GraphQLError(UNAUTHENTICATED_MESSAGE, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

// lastUsedAt is a hint, not an audit trail: writing it at most once a minute
// per key keeps reads from turning into writes.
const LAST_USED_RESOLUTION_MS = 60_000;

/** When this process last wrote each key's lastUsedAt (bounded: the least recent keys drop out first). */
const lastUsedWrites = new LRUCache<string, number>({ max: 10_000 });

/** lastUsedAt writes still in flight (they are not awaited by the request). */
const pendingKeyUsage = new Set<Promise<unknown>>();

/** Resolves once every lastUsedAt write started so far has finished (for tests and shutdown). */
export async function settleKeyUsage(): Promise<void> {
  await Promise.all([...pendingKeyUsage]);
}

/**
 * The key lookup's text, built once (the datamodel is read on first use). A
 * restricted key's permissions are NULL for an unrestricted one only: a
 * restricted row whose list were NULL holds nothing (it fails closed).
 */
let keyLookup: string | undefined;
const keyLookupSql = () =>
  (keyLookup ??= `SELECT k."id" AS "keyId", k."prefix" AS "keyPrefix", k."revokedAt" AS "keyRevokedAt", k."lastUsedAt" AS "keyLastUsedAt",
       k."expiresAt" AS "keyExpiresAt", CASE WHEN k."restricted" THEN COALESCE(k."permissions"::text[], '{}') END AS "keyPermissions",
       m."status" AS "managerStatus", ${tableOf("Account").columns}
     FROM "api_keys" k JOIN "accounts" t ON t."id" = k."accountId" LEFT JOIN "accounts" m ON m."id" = t."managerId"
     WHERE k."secretHash" = $1`);

/** Who is calling and, for an API key, its account's row (the root of most queries: read here, not again). */
export interface Authenticated {
  viewer: Viewer;
  account: Account | null;
}

/**
 * Resolves `Authorization: Bearer <secret>` to a Viewer, or throws the single
 * UNAUTHENTICATED error (missing, malformed, unknown or revoked key, or a key
 * of a CLOSED account).
 */
export async function authenticate(authorization: string | null, operatorToken: string, actAsAccount: string | null = null): Promise<Authenticated> {
  const caller = await authenticateBearer(authorization, operatorToken);
  return actAsAccount === null ? caller : actAs(caller, actAsAccount);
}

/** The sub-account an Act-As-Account header names, with its manager's status: one statement. */
let actAsLookup: string | undefined;
const actAsLookupSql = () =>
  (actAsLookup ??= `SELECT m."status" AS "managerStatus", ${tableOf("Account").columns}
     FROM "accounts" t JOIN "accounts" m ON m."id" = t."managerId"
     WHERE t."id" = $1::uuid AND t."kind" = 'SUB_ACCOUNT' AND ($2::uuid IS NULL OR t."managerId" = $2::uuid)`);

/**
 * A manager key (or the operator token) acting as one of its sub-accounts
 * (DOMAIN.md "Acting as a sub-account"): the request runs as that
 * sub-account, with its rights and schema, and keeps the caller's key for
 * what is recorded (actorOf), for rate limits, and for its permissions
 * (a restricted manager key acts with the intersection of both rights:
 * the sub-account's role, the key's permissions). A sub-account key, an id
 * that is not a SubAccount of the caller's tree, or a closed one is the same
 * 401 as a bad key, so the header cannot probe for accounts.
 */
async function actAs(caller: Authenticated, header: string): Promise<Authenticated> {
  const { viewer } = caller;
  if (viewer.role === "SUB_ACCOUNT") throw unauthenticated();
  const target = parseGlobalId(header.trim());
  if (target?.typename !== "SubAccount") throw unauthenticated();
  const [row] = await runSql<Account & { managerStatus: AccountStatus }>(actAsLookupSql(), [target.id, viewer.role === "MANAGER" ? viewer.accountId : null]);
  if (!row || row.status === "CLOSED") throw unauthenticated();
  const { managerStatus, ...account } = row;
  return {
    viewer: {
      role: "SUB_ACCOUNT",
      accountId: account.id,
      managerId: account.managerId,
      accountStatus: account.status,
      managerStatus,
      apiKey: viewer.role === "MANAGER" ? viewer.apiKey : { id: "operator", prefix: null },
      actingAs: { role: viewer.role, accountId: viewer.role === "MANAGER" ? viewer.accountId : null },
    },
    account,
  };
}

async function authenticateBearer(authorization: string | null, operatorToken: string): Promise<Authenticated> {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization?.trim() ?? "");
  if (!match) throw unauthenticated();
  const secret = match[1]!;
  if (secretsEqual(secret, operatorToken)) return { viewer: { role: "OPERATOR" }, account: null };
  if (!looksLikeApiKeySecret(secret)) throw unauthenticated();

  // One statement on every request: the key, its account's whole row and the manager's status.
  const [row] = await runSql<
    Account & {
      keyId: string;
      keyPrefix: string;
      keyRevokedAt: Date | null;
      keyLastUsedAt: Date | null;
      keyExpiresAt: Date | null;
      /** Null for an unrestricted key. */
      keyPermissions: Permission[] | null;
      managerStatus: AccountStatus | null;
    }
  >(keyLookupSql(), [hashSecret(secret)]);
  // An expired key (createApiKey's expiresAt, or the old secret of a rolled key) is the same 401 as an unknown one.
  if (!row || row.keyRevokedAt || row.status === "CLOSED" || (row.keyExpiresAt && row.keyExpiresAt.getTime() <= Date.now())) throw unauthenticated();

  const now = Date.now();
  const stale = !row.keyLastUsedAt || now - row.keyLastUsedAt.getTime() > LAST_USED_RESOLUTION_MS;
  if (stale && now - (lastUsedWrites.get(row.keyId) ?? 0) > LAST_USED_RESOLUTION_MS) {
    // Once per key and process: the concurrent requests of one key all read
    // a stale lastUsedAt, and each writing it would queue on that row's lock
    // while holding a pool connection. Only a row still stale is written,
    // so other processes' writes are not repeated either.
    lastUsedWrites.set(row.keyId, now);
    // Not awaited: the request does not wait for a bookkeeping write.
    const write = prisma.apiKey
      .updateMany({
        where: { id: row.keyId, revokedAt: null, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - LAST_USED_RESOLUTION_MS) } }] },
        data: { lastUsedAt: new Date(now) },
      })
      .catch(() => {})
      .finally(() => pendingKeyUsage.delete(write));
    pendingKeyUsage.add(write);
  }
  const { keyId, keyPrefix, keyRevokedAt: _revoked, keyLastUsedAt: _lastUsed, keyExpiresAt, keyPermissions, managerStatus, ...account } = row;
  return {
    viewer: {
      role: account.kind === "MANAGER" ? "MANAGER" : "SUB_ACCOUNT",
      accountId: account.id,
      managerId: account.managerId,
      accountStatus: account.status,
      managerStatus: managerStatus ?? account.status,
      apiKey: { id: keyId, prefix: keyPrefix, expiresAt: keyExpiresAt, permissions: keyPermissions && new Set(keyPermissions) },
    },
    account,
  };
}
