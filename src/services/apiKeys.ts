import { assertMayPerform } from "../auth/actions.js";
import { reachableApiKeys, within } from "../auth/rowFilters.js";
import { generateApiKeySecret } from "../auth/secrets.js";
import type { Viewer } from "../auth/viewer.js";
import { AccountNotActiveError, NotFoundError, ValidationError } from "../domain/errors.js";
import { InputChecker, LIMITS } from "../domain/text.js";
import type { Prisma } from "../generated/prisma/client.js";
import { findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";
import { apiKeyData } from "./events.js";
import type { AccountRef } from "./ids.js";
import { inTransaction, lockReachableAccount } from "./transactions.js";

/** Active keys an account may hold at once. */
export const MAX_ACTIVE_KEYS_PER_ACCOUNT = 100;

/**
 * A new key for a reachable account: a manager for itself and its
 * sub-accounts, a sub-account for itself, the operator for anyone.
 */
export async function createApiKey(viewer: Viewer, { id: accountId, kind }: AccountRef, name: string) {
  assertMayPerform(viewer, "apiKey:create");
  const check = new InputChecker();
  const keyName = check.name(name, "name", LIMITS.apiKeyName)!;
  check.done();
  const key = generateApiKeySecret();
  return inTransaction(async (tx) => {
    await lockReachableAccount(tx, viewer, accountId, kind);
    const account = await findReachableAccount(tx, viewer, accountId, kind);
    if (account.status === "CLOSED") throw new AccountNotActiveError("CLOSED");
    const active = await tx.apiKey.count({ where: { accountId, revokedAt: null } });
    if (active >= MAX_ACTIVE_KEYS_PER_ACCOUNT) {
      throw ValidationError.of("accountId", `An account can hold at most ${MAX_ACTIVE_KEYS_PER_ACCOUNT} active keys; revoke one first`);
    }
    const apiKey = await tx.apiKey.create({
      data: { accountId, name: keyName, prefix: key.prefix, secretHash: key.hash },
    });
    await recordAudit(tx, viewer, {
      action: "apiKey.create",
      account,
      details: { apiKeyPrefix: key.prefix },
      event: { type: "API_KEY_CREATED", data: { apiKey: apiKeyData(apiKey) } },
    });
    return { apiKey, secret: key.secret };
  });
}

/** Revokes a reachable key; revoking a revoked key changes nothing. */
export async function revokeApiKey(viewer: Viewer, id: string) {
  assertMayPerform(viewer, "apiKey:revoke");
  return inTransaction(async (tx) => {
    const apiKey = await tx.apiKey.findFirst({ where: within<Prisma.ApiKeyWhereInput>({ id }, reachableApiKeys(viewer)), include: { account: true } });
    if (!apiKey) throw new NotFoundError("The API key");
    if (apiKey.revokedAt) return apiKey;
    const revoked = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    await recordAudit(tx, viewer, {
      action: "apiKey.revoke",
      account: apiKey.account,
      details: { apiKeyPrefix: apiKey.prefix },
      event: { type: "API_KEY_REVOKED", data: { apiKey: apiKeyData(revoked) } },
    });
    return revoked;
  });
}
