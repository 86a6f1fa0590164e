import DataLoader from "dataloader";
import type { Context } from "../context.js";
import { runSql } from "../db/sql.js";
import type { Account } from "../generated/prisma/client.js";
import { afterResolvers, hasWritten, requestCache } from "./requestCache.js";
import { tableOf } from "./tables.js";

/**
 * Account rows by id, batched and cached per request: one statement for all
 * the ids a request needs (the caller's own account, the manager behind
 * every sub-account of a page).
 *
 * Not a row filter: it loads whatever id it is given. Use it only for ids
 * the caller already reached (its own account, the parent of a row it was
 * shown) or to compute a field of a reached row (a sub-account's effective
 * status from its manager's).
 */
/** The statement's text, built once (the datamodel is read on first use). */
let accountsById: string | undefined;
const accountsByIdSql = () => {
  const { table, columns } = tableOf("Account");
  accountsById ??= `SELECT ${columns} FROM ${table} t WHERE t."id" = ANY($1::uuid[])`;
  return accountsById;
};

export const accountRows = requestCache((ctx: Partial<Pick<Context, "callerAccount">>) => {
  const loader = new DataLoader<string, Account | null>(
    async (ids) => {
      const rows = await runSql<Account>(accountsByIdSql(), [ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { batchScheduleFn: afterResolvers },
  );
  // The caller's own row came with authentication: `viewer.account` needs no
  // second read, unless a mutation of this request may have changed it.
  if (ctx.callerAccount && !hasWritten(ctx)) loader.prime(ctx.callerAccount.id, ctx.callerAccount);
  return loader;
});

/**
 * The account a row belongs to (a key, a number, an endpoint, a trigger),
 * through the per-request cache: a resolver for their `account` fields. The
 * account of a reachable row is reachable (auth/rowFilters.ts).
 */
export const ownerAccountOf = async (row: { accountId: string }, _args: unknown, ctx: object): Promise<Account> =>
  (await accountRows(ctx).load(row.accountId))!;

/** The manager row of a sub-account (null for a manager), through the per-request cache. */
export const managerRowOf = async (ctx: object, account: Pick<Account, "managerId">): Promise<Account | null> =>
  account.managerId ? accountRows(ctx).load(account.managerId) : null;
