// Test data made through the real API, with unique values per test, so test
// files can share one database and run in parallel.
import { randomUUID } from "node:crypto";
import { OPERATOR_TOKEN, gqlData } from "./app.js";

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
    `mutation($input: CreateManagerInput!) { createManager(input: $input) {
      __typename ... on CreateManagerSuccess { secret manager { id email } apiKey { id } } ... on Error { code message } } }`,
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
    `mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) {
      __typename ... on CreateSubAccountSuccess { subAccount { id email } } ... on Error { code message } } }`,
    { token: manager.token, variables: { input: { organizationName: "Customer", ...input, email } } },
  );
  const r = data.createSubAccount;
  if (r.__typename !== "CreateSubAccountSuccess") throw new Error(`createSubAccount failed: ${JSON.stringify(r)}`);
  const key = await createApiKey(manager.token, r.subAccount.id);
  return { id: r.subAccount.id, email: r.subAccount.email, token: key.secret, keyId: key.id };
}

export async function createApiKey(token: string, accountId: string, name = "test key"): Promise<{ id: string; secret: string }> {
  const data = await gqlData(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
      __typename ... on CreateApiKeySuccess { secret apiKey { id } } ... on Error { code message } } }`,
    { token, variables: { input: { accountId, name } } },
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
  const [sub, sibling, otherSub] = await Promise.all([
    createSubAccount(manager),
    createSubAccount(manager),
    createSubAccount(otherManager),
  ]);
  return { manager, otherManager, sub, sibling, otherSub };
}
export type World = Awaited<ReturnType<typeof createWorld>>;
