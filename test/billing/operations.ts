// The billing operations the tests in this folder send, and the invariants
// they check with SQL afterwards.
import { expect } from "vitest";
import { prisma } from "../../src/db/client.js";
import { type GqlResponse, gql, gqlData, result } from "../helpers/app.js";
import { type Product, unique } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

// The documents are written out in full (no interpolation) so that gql.tada
// types them from the schema and checks them against it at compile time. Each
// selects `... on Error { code message }` plus the extra fields of the error
// types its union holds; every balance selects the same fields.

export const RECORD_USAGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  __typename ... on RecordUsageSuccess { usageRecord { id product quantity idempotencyKey occurredAt account { id } } balance { isSubAccount shared available { amount currency } creditLimit { amount } totalSpent { amount } remainingCredit { amount } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on CreditLimitExceededError { creditLimit { amount } totalSpent { amount } }
  ... on AccountNotActiveError { status } } }`);

export const TOP_UP = graphql(`mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) {
  __typename ... on TopUpBalanceSuccess { balance { isSubAccount shared available { amount currency } creditLimit { amount } totalSpent { amount } remainingCredit { amount } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on RateLimitedError { retryAfterSeconds }
  ... on AccountNotActiveError { status } } }`);

export const TRANSFER = graphql(`mutation($input: TransferBalanceInput!) { transferBalance(input: $input) {
  __typename ... on TransferBalanceSuccess { from { isSubAccount shared available { amount currency } creditLimit { amount } totalSpent { amount } remainingCredit { amount } } to { isSubAccount shared available { amount currency } creditLimit { amount } totalSpent { amount } remainingCredit { amount } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on AccountNotActiveError { status } } }`);

export const SET_PRICING = graphql(`mutation($input: SetPricingInput!) { setAccountPricing(input: $input) {
  __typename ... on SetPricingSuccess { account { id } pricing { source rates { product unitPrice { amount } } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } } } }`);

export const SET_PLATFORM_PRICING = graphql(`mutation($input: SetPlatformPricingInput!) { setPlatformPricing(input: $input) {
  __typename ... on SetPlatformPricingSuccess { pricing { source rates { product unitPrice { amount } } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } } } }`);

export const BALANCE_OF = graphql(
  `query($id: ID!) { node(id: $id) { ... on Account { balance { isSubAccount shared available { amount currency } creditLimit { amount } totalSpent { amount } remainingCredit { amount } } } } }`,
);

export const recordUsage = (
  token: string | null,
  input: { accountId: string; product?: Product; quantity?: number; idempotencyKey?: string; occurredAt?: string },
) =>
  gql(RECORD_USAGE, {
    token,
    variables: { input: { product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("usage"), ...input } },
  });

export const topUpAs = (token: string | null, input: { accountId: string; amount: string; idempotencyKey?: string }) =>
  gql(TOP_UP, { token, variables: { input: { idempotencyKey: unique("topup"), ...input } } });

export const transfer = (token: string | null, input: { fromAccountId: string; toAccountId: string; amount: string; idempotencyKey?: string }) =>
  gql(TRANSFER, { token, variables: { input: { idempotencyKey: unique("transfer"), ...input } } });

// The mutation helpers above return responses; `result` unwraps one.
export { result };

/**
 * `value` as the member `typename` of its result union, failing the test
 * (with the whole value in the message) when it is another member.
 */
export function ofType<T extends { __typename: string }, N extends T["__typename"]>(
  value: T,
  typename: N,
  message = JSON.stringify(value),
): Extract<T, { __typename: N }> {
  expect(value.__typename, message).toBe(typename);
  // Truthful: the line above checked the discriminant.
  return value as Extract<T, { __typename: N }>;
}

/** The mutation result of `res` (as `result`), narrowed to the member `typename` (as `ofType`). */
export const resultOfType = <R extends Record<string, { __typename: string }>, N extends R[keyof R]["__typename"]>(
  res: GqlResponse<R>,
  typename: N,
): Extract<R[keyof R], { __typename: N }> => ofType(result(res), typename);

/**
 * A `node(id:)` result whose `... on X { key }` spread must have matched,
 * narrowed to the types that select `key`; fails the test when the node is
 * null or of another type.
 */
export function nodeWith<T extends object, K extends string>(node: T | null | undefined, key: K): Extract<T, Record<K, unknown>> {
  if (node == null || !(key in node)) throw new Error(`expected a node with ${key}, got ${JSON.stringify(node)}`);
  // Truthful: the line above checked that this member of the union was selected.
  return node as Extract<T, Record<K, unknown>>;
}

/** The field `key` of `node`, narrowed as `nodeWith` does. */
export const fieldOf = <T extends object, K extends string>(node: T | null | undefined, key: K): Extract<T, Record<K, unknown>>[K] => nodeWith(node, key)[key];

/** An account's balance as `token` sees it. */
export async function balanceOf(token: string, accountId: string) {
  const { node } = await gqlData(BALANCE_OF, { token, variables: { id: accountId } });
  return node && "balance" in node ? node.balance : null;
}

import { dbId } from "../helpers/ids.js";

export { dbId };

/**
 * DOMAIN.md's invariants, checked with SQL over the given accounts (global
 * ids): each balance equals the sum of its ledger entries and is not
 * negative; totalSpent equals the sum of the account's usage costs and stays
 * within its credit limit; every usage record has exactly one CHARGE entry of
 * minus its cost; each idempotency key took effect once.
 */
export async function expectInvariants(accountIds: string[]): Promise<void> {
  const ids = accountIds.map(dbId);
  const rows = await prisma.$queryRaw<{ id: string; balance: bigint; ledger: bigint; spent: bigint; usage: bigint; limit: bigint | null }[]>`
    SELECT a."id", a."balanceMicros" AS balance, a."totalSpentMicros" AS spent, a."creditLimitMicros" AS "limit",
      COALESCE((SELECT SUM(l."amountMicros") FROM "ledger_entries" l WHERE l."balanceAccountId" = a."id"), 0)::bigint AS ledger,
      COALESCE((SELECT SUM(u."costMicros") FROM "usage_records" u WHERE u."accountId" = a."id"), 0)::bigint AS usage
    FROM "accounts" a WHERE a."id" = ANY(${ids}::uuid[])`;
  expect(rows).toHaveLength(ids.length);
  for (const r of rows) {
    expect(BigInt(r.balance), `balance = sum of ledger (${r.id})`).toBe(BigInt(r.ledger));
    expect(BigInt(r.balance) >= 0n, `balance >= 0 (${r.id})`).toBe(true);
    expect(BigInt(r.spent), `totalSpent = sum of usage costs (${r.id})`).toBe(BigInt(r.usage));
    if (r.limit != null) expect(BigInt(r.spent) <= BigInt(r.limit), `totalSpent <= creditLimit (${r.id})`).toBe(true);
  }
  const unmatched = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT COUNT(*)::bigint AS n FROM "usage_records" u
    WHERE u."accountId" = ANY(${ids}::uuid[])
      AND (SELECT COUNT(*) FROM "ledger_entries" l WHERE l."usageRecordId" = u."id" AND l."kind" = 'CHARGE' AND l."amountMicros" = -u."costMicros") <> 1`;
  expect(Number(unmatched[0]!.n), "one CHARGE entry per usage record").toBe(0);
}

const codes = (res: GqlResponse) => (res.body.errors ?? []).map((e) => e.extensions?.code);

/**
 * True when a field was withheld from the caller's role: null with FORBIDDEN,
 * or, where the role's schema leaves the field out, a request that fails
 * validation and returns no data (DOMAIN.md counts both as forbidden).
 */
export function withheld(res: GqlResponse): boolean {
  const all = codes(res);
  if (!all.length) return false;
  return all.every((c) => c === "FORBIDDEN") || (res.body.data == null && all.every((c) => c === "GRAPHQL_VALIDATION_FAILED"));
}

/** True when a mutation was refused for the caller's role: a ForbiddenError result, or absent from the role's schema. */
export function refusedForRole(res: GqlResponse): boolean {
  if (res.body.errors?.length) return withheld(res);
  return (Object.values(res.body.data ?? {})[0] as { __typename?: string } | undefined)?.__typename === "ForbiddenError";
}
