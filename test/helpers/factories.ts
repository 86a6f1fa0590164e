// Test data made through the real API, with unique values per test, so test
// files can share one database and run in parallel.
import { randomInt, randomUUID } from "node:crypto";
import { prisma } from "../../src/db/client.js";
import { parseGlobalId } from "../../src/schema/globalIds.js";
import { gqlData, OPERATOR_TOKEN } from "./app.js";
import { graphql } from "./graphql.js";

/** A billable product, as the schema's `Product` enum names it. */
export type Product = ReturnType<typeof graphql.scalar<"Product">>;

export const unique = (label = "x") => `${label}-${randomUUID().slice(0, 8)}`;
export const uniqueEmail = (label = "user") => `${unique(label)}@example.com`;

export interface TestAccount {
  id: string;
  email: string;
  token: string;
  /** Prefix of the token's API key. */
  keyId: string;
}

export async function createManager(options: { organizationName?: string; subAccountLimit?: number } = {}): Promise<TestAccount> {
  const email = uniqueEmail("manager");
  const data = await gqlData(
    graphql(`mutation($input: CreateManagerInput!) { createManager(input: $input) {
      __typename ... on CreateManagerSuccess { secret manager { id email } apiKey { id } } ... on Error { code message } } }`),
    { token: OPERATOR_TOKEN, variables: { input: { email, organizationName: options.organizationName ?? "Acme", subAccountLimit: options.subAccountLimit } } },
  );
  const r = data.createManager;
  if (r.__typename !== "CreateManagerSuccess") throw new Error(`createManager failed: ${JSON.stringify(r)}`);
  return { id: r.manager.id, email: r.manager.email, token: r.secret, keyId: r.apiKey.id };
}

export async function createSubAccount(
  manager: TestAccount,
  input: { email?: string; organizationName?: string; rollupBilling?: boolean; allowCustomPricing?: boolean; creditLimit?: string } = {},
): Promise<TestAccount> {
  const email = input.email ?? uniqueEmail("sub");
  const data = await gqlData(
    graphql(`mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) {
      __typename ... on CreateSubAccountSuccess { subAccount { id email } } ... on Error { code message } } }`),
    { token: manager.token, variables: { input: { organizationName: "Customer", ...input, email } } },
  );
  const r = data.createSubAccount;
  if (r.__typename !== "CreateSubAccountSuccess") throw new Error(`createSubAccount failed: ${JSON.stringify(r)}`);
  const key = await createApiKey(manager.token, r.subAccount.id);
  return { id: r.subAccount.id, email: r.subAccount.email, token: key.secret, keyId: key.id };
}

/** A permission a key may be restricted to, as the schema's `ApiKeyPermission` enum names it. */
export type ApiKeyPermission = ReturnType<typeof graphql.scalar<"ApiKeyPermission">>;

export async function createApiKey(
  token: string,
  accountId: string,
  name = "test key",
  options: { permissions?: readonly ApiKeyPermission[]; expiresAt?: string } = {},
): Promise<{ id: string; secret: string }> {
  const data = await gqlData(
    graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
      __typename ... on CreateApiKeySuccess { secret apiKey { id } } ... on Error { code message } } }`),
    { token, variables: { input: { accountId, name, permissions: options.permissions ? [...options.permissions] : undefined, expiresAt: options.expiresAt } } },
  );
  const r = data.createApiKey;
  if (r.__typename !== "CreateApiKeySuccess") throw new Error(`createApiKey failed: ${JSON.stringify(r)}`);
  return { id: r.apiKey.id, secret: r.secret };
}

/**
 * The cast of every authorization matrix: a manager with two sub-accounts
 * (`sub` and its `sibling`), and a foreign manager with a sub-account of its own.
 */
export async function createWorld() {
  const manager = await createManager();
  const otherManager = await createManager();
  const [sub, sibling, otherSub] = await Promise.all([createSubAccount(manager), createSubAccount(manager), createSubAccount(otherManager)]);
  return { manager, otherManager, sub, sibling, otherSub };
}
export type World = Awaited<ReturnType<typeof createWorld>>;

/**
 * A valid E.164 number no other test will use: "+1" and 14 random digits
 * (15 digits in all, the longest E.164 allows), so parallel test files never collide.
 */
export const uniquePhoneNumber = () => `+1${Array.from({ length: 14 }, () => randomInt(10)).join("")}`;

/** Provisions a number (a fresh unique one unless given) on an account, as `token`; returns its global id and number. */
export async function provisionNumber(token: string, accountId: string, number = uniquePhoneNumber()): Promise<{ id: string; number: string }> {
  await fundCharges(accountId);
  const data = await gqlData(
    graphql(`mutation($input: ProvisionPhoneNumberInput!) { provisionPhoneNumber(input: $input) {
      __typename ... on ProvisionPhoneNumberSuccess { phoneNumber { id number } } ... on Error { code message } } }`),
    { token, variables: { input: { accountId, number } } },
  );
  const r = data.provisionPhoneNumber;
  if (r.__typename !== "ProvisionPhoneNumberSuccess") throw new Error(`provisionPhoneNumber failed: ${JSON.stringify(r)}`);
  return { id: r.phoneNumber.id, number: r.phoneNumber.number };
}

/** Adds funds to an account's own balance (as the operator unless `token` is given); returns the new available amount. */
export async function topUp(accountId: string, amount: string, token = OPERATOR_TOKEN): Promise<string> {
  const data = await gqlData(
    graphql(`mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) {
      __typename ... on TopUpBalanceSuccess { balance { available { amount } } } ... on Error { code message } } }`),
    { token, variables: { input: { accountId, amount, idempotencyKey: unique("topup") } } },
  );
  const r = data.topUpBalance;
  if (r.__typename !== "TopUpBalanceSuccess") throw new Error(`topUpBalance failed: ${JSON.stringify(r)}`);
  // `available` is null only when the caller may not see the figure; the
  // operator and the account's manager always may.
  if (!r.balance.available) throw new Error("topUpBalance: the caller cannot see the balance it topped up");
  return r.balance.available.amount;
}

/** Replaces an account's own rate card (operator), e.g. `{ SMS_OUTBOUND: "0.01" }`. */
export async function setAccountPricing(accountId: string, rates: Partial<Record<Product, string>>): Promise<void> {
  const data = await gqlData(graphql(`mutation($input: SetPricingInput!) { setAccountPricing(input: $input) { __typename ... on Error { code message } } }`), {
    token: OPERATOR_TOKEN,
    variables: { input: { accountId, rates: (Object.entries(rates) as [Product, string][]).map(([product, unitPrice]) => ({ product, unitPrice })) } },
  });
  if (data.setAccountPricing.__typename !== "SetPricingSuccess") throw new Error(`setAccountPricing failed: ${JSON.stringify(data.setAccountPricing)}`);
}

// One funding per account, shared by concurrent callers: they wait for the
// same promise, so none provisions before the funds are committed.
const funded = new Map<string, Promise<void>>();
/** What fundCharges credits: enough for any test's charges. */
export const TEST_FUNDS_MICROS = 1_000_000_000n;

/**
 * Credits the balance that pays an account's charges (its manager's under
 * rollup billing) once per account, so that operations which charge (such as
 * provisioning a number) succeed in tests about something else. Written as an
 * ADJUSTMENT ledger entry straight to the database: the balance still equals
 * its ledger, and no audit event or top-up (with its 5-a-day limit) appears in
 * the test's data. Ids that are not an account are left alone.
 */
export async function fundCharges(accountId: string): Promise<void> {
  const id = parseGlobalId(accountId)?.id;
  if (!id) return;
  if (!funded.has(id)) funded.set(id, addTestFunds(id));
  await funded.get(id);
}

async function addTestFunds(id: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const account = await tx.account.findUnique({ where: { id }, select: { kind: true, managerId: true, rollupBilling: true } });
    if (!account) return;
    const payer = account.kind === "SUB_ACCOUNT" && account.rollupBilling ? account.managerId! : id;
    const [row] = await tx.$queryRaw<{ balanceMicros: bigint }[]>`
      UPDATE "accounts" SET "balanceMicros" = "balanceMicros" + ${TEST_FUNDS_MICROS} WHERE "id" = ${payer}::uuid RETURNING "balanceMicros"`;
    await tx.ledgerEntry.create({
      data: { balanceAccountId: payer, causedByAccountId: payer, kind: "ADJUSTMENT", amountMicros: TEST_FUNDS_MICROS, balanceAfterMicros: row!.balanceMicros },
    });
  });
}
