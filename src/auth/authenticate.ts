import { GraphQLError } from "graphql";
import { prisma } from "../db/client.js";
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

  // findFirst, not findUnique: Prisma batches concurrent findUnique calls into
  // one query, and with a driver adapter that batch can answer null for one of
  // two concurrent lookups of the same key (seen here under parallel requests).
  const key = await prisma.apiKey.findFirst({
    where: { secretHash: hashSecret(secret) },
    select: {
      id: true,
      prefix: true,
      revokedAt: true,
      lastUsedAt: true,
      account: { select: { id: true, kind: true, status: true, managerId: true, manager: { select: { status: true } } } },
    },
  });
  if (!key || key.revokedAt || key.account.status === "CLOSED") throw unauthenticated();

  const now = Date.now();
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Not awaited: the request does not wait for a bookkeeping write.
    const write = prisma.apiKey
      .updateMany({ where: { id: key.id, revokedAt: null }, data: { lastUsedAt: new Date(now) } })
      .catch(() => {})
      .finally(() => pendingKeyUsage.delete(write));
    pendingKeyUsage.add(write);
  }
  const account = key.account;
  return {
    role: account.kind === "MANAGER" ? "MANAGER" : "SUB_ACCOUNT",
    accountId: account.id,
    managerId: account.managerId,
    accountStatus: account.status,
    managerStatus: account.manager?.status ?? account.status,
    apiKey: { id: key.id, prefix: key.prefix },
  };
}
