import { GraphQLError } from "graphql";
import { prisma } from "../db/client.js";
import type { AccountKind, AccountStatus } from "../generated/prisma/client.js";
import { sqlRows } from "../read/sql.js";
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

/** lastUsedAt writes still in flight (they are not awaited by the request). */
const pendingKeyUsage = new Set<Promise<unknown>>();

/** Resolves once every lastUsedAt write started so far has finished (for tests and shutdown). */
export async function settleKeyUsage(): Promise<void> {
  await Promise.all([...pendingKeyUsage]);
}

/**
 * Resolves `Authorization: Bearer <secret>` to a Viewer, or throws the single
 * UNAUTHENTICATED error (missing, malformed, unknown or revoked key, or a key
 * of a CLOSED account).
 */
export async function authenticate(authorization: string | null, operatorToken: string): Promise<Viewer> {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization?.trim() ?? "");
  if (!match) throw unauthenticated();
  const secret = match[1]!;
  if (secretsEqual(secret, operatorToken)) return { role: "OPERATOR" };
  if (!looksLikeApiKeySecret(secret)) throw unauthenticated();

  // One statement on every request: the key, its account and the account's manager.
  const [key] = await sqlRows<{
    id: string;
    prefix: string;
    revokedAt: Date | null;
    lastUsedAt: Date | null;
    accountId: string;
    kind: AccountKind;
    status: AccountStatus;
    managerId: string | null;
    managerStatus: AccountStatus | null;
  }>(
    `SELECT k."id", k."prefix", k."revokedAt", k."lastUsedAt", a."id" AS "accountId", a."kind", a."status", a."managerId", m."status" AS "managerStatus"
     FROM "api_keys" k JOIN "accounts" a ON a."id" = k."accountId" LEFT JOIN "accounts" m ON m."id" = a."managerId"
     WHERE k."secretHash" = $1`,
    [hashSecret(secret)],
  );
  if (!key || key.revokedAt || key.status === "CLOSED") throw unauthenticated();

  const now = Date.now();
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Not awaited: the request does not wait for a bookkeeping write.
    const write = prisma.apiKey
      .updateMany({ where: { id: key.id, revokedAt: null }, data: { lastUsedAt: new Date(now) } })
      .catch(() => {})
      .finally(() => pendingKeyUsage.delete(write));
    pendingKeyUsage.add(write);
  }
  return {
    role: key.kind === "MANAGER" ? "MANAGER" : "SUB_ACCOUNT",
    accountId: key.accountId,
    managerId: key.managerId,
    accountStatus: key.status,
    managerStatus: key.managerStatus ?? key.status,
    apiKey: { id: key.id, prefix: key.prefix },
  };
}
