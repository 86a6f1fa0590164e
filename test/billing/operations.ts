// The billing operations the tests in this folder send, and the invariants
// they check with SQL afterwards.
import { expect } from "vitest";
import { prisma } from "../../src/db/client.js";
import { type GqlResponse, gql, gqlData } from "../helpers/app.js";
import { unique } from "../helpers/factories.js";

const EXTRA_FIELDS: Record<string, string> = {
  ValidationError: "fieldErrors { path message }",
  CreditLimitExceededError: "creditLimit { amount } totalSpent { amount }",
  RateLimitedError: "retryAfterSeconds",
  AccountNotActiveError: "status",
};
/** `... on Error` plus the extra fields of the error types a union holds. */
const errorFields = (...types: string[]) => ["... on Error { code message }", ...types.map((t) => `... on ${t} { ${EXTRA_FIELDS[t]} }`)].join("\n  ");

export const BALANCE_FIELDS = "isSubAccount shared available { amount currency } creditLimit { amount } totalSpent { amount } remainingCredit { amount }";

export const RECORD_USAGE = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  __typename ... on RecordUsageSuccess { usageRecord { id product quantity idempotencyKey occurredAt account { id } } balance { ${BALANCE_FIELDS} } }
  ${errorFields("ValidationError", "CreditLimitExceededError", "AccountNotActiveError")} } }`;

export const TOP_UP = `mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) {
  __typename ... on TopUpBalanceSuccess { balance { ${BALANCE_FIELDS} } }
  ${errorFields("ValidationError", "RateLimitedError", "AccountNotActiveError")} } }`;

export const TRANSFER = `mutation($input: TransferBalanceInput!) { transferBalance(input: $input) {
  __typename ... on TransferBalanceSuccess { from { ${BALANCE_FIELDS} } to { ${BALANCE_FIELDS} } }
  ${errorFields("ValidationError", "AccountNotActiveError")} } }`;

export const SET_PRICING = `mutation($input: SetPricingInput!) { setAccountPricing(input: $input) {
  __typename ... on SetPricingSuccess { account { id } pricing { source rates { product unitPrice { amount } } } }
  ${errorFields("ValidationError")} } }`;

export const SET_PLATFORM_PRICING = `mutation($input: SetPlatformPricingInput!) { setPlatformPricing(input: $input) {
  __typename ... on SetPlatformPricingSuccess { pricing { source rates { product unitPrice { amount } } } }
  ${errorFields("ValidationError")} } }`;

export const BALANCE_OF = `query($id: ID!) { node(id: $id) { ... on Account { balance { ${BALANCE_FIELDS} } } } }`;

export const recordUsage = (
  token: string | null,
  input: { accountId: string; product?: string; quantity?: number; idempotencyKey?: string; occurredAt?: string },
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
export { result } from "../helpers/app.js";

/** An account's balance as `token` sees it. */
export async function balanceOf(token: string, accountId: string) {
  return (await gqlData(BALANCE_OF, { token, variables: { id: accountId } })).node?.balance ?? null;
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
