import { assertMayPerform, PERMISSIONS, type Permission } from "../auth/actions.js";
import { reachableApiKeys, within } from "../auth/rowFilters.js";
import { generateApiKeySecret } from "../auth/secrets.js";
import { permissionsOf, type Viewer } from "../auth/viewer.js";
import { AccountNotActiveError, ForbiddenError, NotFoundError, ValidationError } from "../domain/errors.js";
import { InputChecker, LIMITS } from "../domain/text.js";
import type { Prisma } from "../generated/prisma/client.js";
import { findReachableAccount } from "./accounts.js";
import { recordAudit } from "./audit.js";
import { apiKeyData } from "./events.js";
import type { AccountRef } from "./ids.js";
import { inTransaction, lockReachableAccount } from "./transactions.js";

/** Active keys an account may hold at once. */
export const MAX_ACTIVE_KEYS_PER_ACCOUNT = 100;
const MAX_KEY_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;
/** rollApiKey's expireCurrentInSeconds: 0 (at once) to 7 days. */
export const MAX_ROLL_OVERLAP_SECONDS = 7 * 24 * 60 * 60;

/** Keys that still authenticate: not revoked, not expired. */
const workingKeys = (accountId: string): Prisma.ApiKeyWhereInput => ({
  accountId,
  revokedAt: null,
  OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
});

async function assertRoomForKey(tx: Prisma.TransactionClient, accountId: string): Promise<void> {
  const active = await tx.apiKey.count({ where: workingKeys(accountId) });
  if (active >= MAX_ACTIVE_KEYS_PER_ACCOUNT) {
    throw ValidationError.of("accountId", `An account can hold at most ${MAX_ACTIVE_KEYS_PER_ACCOUNT} active keys; revoke one first`);
  }
}

/**
 * No escalation through expiry (DOMAIN.md "Least-privilege keys"): a key
 * that expires creates or rolls only keys that expire no later than it
 * does. The operator token does not expire; acting as a sub-account, the
 * manager's key is the one that counts.
 */
function assertOutlivedByCaller(viewer: Viewer, expiresAt: Date | null): void {
  if (viewer.role === "OPERATOR") return;
  const own = viewer.apiKey.expiresAt;
  if (own && (!expiresAt || expiresAt.getTime() > own.getTime())) {
    throw new ForbiddenError(`This key expires at ${own.toISOString()}; the keys it creates or rolls must expire no later`);
  }
}

/**
 * No escalation through permissions (DOMAIN.md "Least-privilege keys"): a
 * restricted key creates or rolls only keys restricted to some of its own
 * permissions, never an unrestricted one. `permissions` null: unrestricted.
 */
function assertCoveredByCaller(viewer: Viewer, permissions: readonly Permission[] | null): void {
  const own = permissionsOf(viewer);
  if (!own) return;
  if (!permissions) {
    throw new ForbiddenError("This API key is restricted; the keys it creates or rolls must be restricted to some of its permissions too");
  }
  const wider = permissions.filter((p) => !own.has(p));
  if (wider.length) throw new ForbiddenError(`This API key lacks ${wider.join(", ")}; the keys it creates or rolls may hold only its own permissions`);
}

/** A key's permissions as stored: each once, in the contract's order (null: unrestricted). */
const normalizedPermissions = (permissions: readonly Permission[] | null): Permission[] | null =>
  permissions && PERMISSIONS.filter((p) => permissions.includes(p));

/** A stored key's permissions: null when it is unrestricted. */
export const permissionsOfKey = (key: { restricted: boolean; permissions: readonly Permission[] | null }): Permission[] | null =>
  key.restricted ? normalizedPermissions(key.permissions ?? []) : null;

/**
 * A new key for a reachable account: a manager for itself and its
 * sub-accounts, a sub-account for itself, the operator for anyone;
 * restricted to `permissions` unless that is null.
 */
export async function createApiKey(
  viewer: Viewer,
  { id: accountId, kind }: AccountRef,
  name: string,
  expiresAt: Date | null = null,
  permissions: readonly Permission[] | null = null,
) {
  assertMayPerform(viewer, "apiKey:create");
  const check = new InputChecker();
  const keyName = check.name(name, "name", LIMITS.apiKeyName)!;
  if (expiresAt) {
    check.check(expiresAt.getTime() > Date.now(), "expiresAt", "must be in the future");
    check.check(expiresAt.getTime() <= Date.now() + MAX_KEY_LIFETIME_MS, "expiresAt", "must be within 10 years");
  }
  check.done();
  const restrictedTo = normalizedPermissions(permissions);
  assertCoveredByCaller(viewer, restrictedTo);
  assertOutlivedByCaller(viewer, expiresAt);
  const key = generateApiKeySecret();
  return inTransaction(async (tx) => {
    await lockReachableAccount(tx, viewer, accountId, kind);
    const account = await findReachableAccount(tx, viewer, accountId, kind);
    if (account.status === "CLOSED") throw new AccountNotActiveError("CLOSED");
    await assertRoomForKey(tx, accountId);
    const apiKey = await tx.apiKey.create({
      data: {
        accountId,
        name: keyName,
        prefix: key.prefix,
        secretHash: key.hash,
        expiresAt,
        restricted: restrictedTo !== null,
        permissions: restrictedTo ?? [],
      },
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

/**
 * Rolls a key (Stripe's "roll key"): a new secret under a new key with the
 * same name, account, permissions and expiry, and the current secret keeps working for
 * `expireCurrentInSeconds` more (0: not at all), then is the same 401 as an
 * unknown key. Both are listed in apiKeys. A revoked or expired key cannot
 * be rolled (ValidationError); nor, by a key that expires or is restricted,
 * one that would outlive it or holds more (ForbiddenError).
 */
export async function rollApiKey(viewer: Viewer, id: string, expireCurrentInSeconds: number) {
  assertMayPerform(viewer, "apiKey:roll");
  if (!Number.isInteger(expireCurrentInSeconds) || expireCurrentInSeconds < 0 || expireCurrentInSeconds > MAX_ROLL_OVERLAP_SECONDS) {
    throw ValidationError.of("expireCurrentInSeconds", `must be a whole number of seconds from 0 to ${MAX_ROLL_OVERLAP_SECONDS} (7 days)`);
  }
  const key = generateApiKeySecret();
  return inTransaction(async (tx) => {
    const current = await tx.apiKey.findFirst({ where: within<Prisma.ApiKeyWhereInput>({ id }, reachableApiKeys(viewer)), include: { account: true } });
    if (!current) throw new NotFoundError("The API key");
    await lockReachableAccount(tx, viewer, current.accountId, current.account.kind);
    if (current.account.status === "CLOSED") throw new AccountNotActiveError("CLOSED");
    const now = Date.now();
    if (current.revokedAt) throw ValidationError.of("id", "A revoked key cannot be rolled");
    if (current.expiresAt && current.expiresAt.getTime() <= now) throw ValidationError.of("id", "An expired key cannot be rolled");
    assertCoveredByCaller(viewer, permissionsOfKey(current));
    assertOutlivedByCaller(viewer, current.expiresAt);
    await assertRoomForKey(tx, current.accountId);
    const overlapEnds = new Date(now + expireCurrentInSeconds * 1000);
    const previous = await tx.apiKey.update({
      where: { id },
      data: { expiresAt: current.expiresAt && current.expiresAt < overlapEnds ? current.expiresAt : overlapEnds },
    });
    const apiKey = await tx.apiKey.create({
      data: {
        accountId: current.accountId,
        name: current.name,
        prefix: key.prefix,
        secretHash: key.hash,
        expiresAt: current.expiresAt,
        restricted: current.restricted,
        permissions: current.permissions,
      },
    });
    await recordAudit(tx, viewer, {
      action: "apiKey.roll",
      account: current.account,
      details: { apiKeyPrefix: key.prefix, previousApiKeyPrefix: previous.prefix, previousExpiresAt: previous.expiresAt?.toISOString() },
      event: { type: "API_KEY_ROLLED", data: { apiKey: apiKeyData(apiKey), previous: apiKeyData(previous) } },
    });
    return { apiKey, secret: key.secret, previous };
  });
}
