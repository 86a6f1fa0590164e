// `npm run seed`: creates a demo world on the current database (the embedded
// one under DATA_DIR, or DATABASE_URL) through the real API, and prints the
// keys to try in GraphiQL. Run it while the server is stopped when using the
// embedded database (PGlite is single-process); each run adds a new world.
import { randomBytes } from "node:crypto";
import { resolveOperatorToken } from "../src/auth/operatorToken.js";
import { readConfig } from "../src/config.js";
import { prepareDatabase } from "../src/db/prepare.js";

const config = readConfig();
const database = await prepareDatabase(config).catch((error: Error) => {
  // A clear line for the operator (data folder in use, database unreachable), not a stack trace.
  console.error(`cannot start: ${error.message}`);
  process.exit(1);
});
const operator = resolveOperatorToken(config.operatorToken, config.dataDir);
const { createApp } = await import("../src/yoga.js");
const { disconnectDatabase } = await import("../src/db/client.js");
const app = createApp({ operatorToken: operator.token, production: false, rateLimits: { perKey: 1e6, perAddress: 1e6, windowSeconds: 60 } });

/**
 * One seed step: the result of the document's only root field, `R` as the
 * document selects it. With `expected`, a result without that field (an
 * error member of the result union) fails the step too.
 */
async function call<R extends object = Record<string, unknown>>(
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  expected?: keyof R & string,
): Promise<R> {
  const res = await app.fetch("http://seed.local/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  const result: unknown = body.data && Object.values(body.data)[0];
  const isObject = typeof result === "object" && result !== null;
  if (body.errors || (isObject && "code" in result) || (expected && !(isObject && expected in result))) {
    throw new Error(`seed step failed: ${JSON.stringify(body)}`);
  }
  // Truthful as far as the checks above go: the root field answered without an error, with `expected` when given.
  return result as R;
}

const tag = randomBytes(2).toString("hex");
const number = () => `+1415555${String(Math.floor(Math.random() * 10000)).padStart(4, "0")}`;

const created = await call<{ secret: string; manager: { id: string; email: string } }>(
  operator.token,
  `mutation($input: CreateManagerInput!) { createManager(input: $input) { ... on CreateManagerSuccess { secret manager { id email } } } }`,
  { input: { email: `ops-${tag}@acme-telecom.example`, organizationName: "Acme Telecom", apiKeyName: "demo" } },
  "secret",
);
const manager = { id: created.manager.id, email: created.manager.email, key: created.secret };
await call(operator.token, `mutation($input: SetPricingInput!) { setAccountPricing(input: $input) { __typename } }`, {
  input: {
    accountId: manager.id,
    rates: [
      { product: "SMS_OUTBOUND", unitPrice: "0.0065" },
      { product: "VOICE_OUTBOUND_MINUTE", unitPrice: "0.0120" },
    ],
  },
});
await call(manager.key, `mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) { __typename } }`, {
  input: { accountId: manager.id, amount: "500.00", idempotencyKey: `seed-${tag}` },
});

const customers = [
  { organizationName: "Northwind Clinic", rollupBilling: false, creditLimit: "100.00" },
  { organizationName: "Blue Harbor Realty", rollupBilling: true },
  { organizationName: "Cedar Logistics", rollupBilling: true, creditLimit: "40.00" },
  { organizationName: "Delta Dental", rollupBilling: false, allowCustomPricing: true },
];
const subs: { name: string; id: string; email: string; key: string }[] = [];
for (const [i, customer] of customers.entries()) {
  const email = `it-${tag}-${i}@${customer.organizationName.toLowerCase().replace(/\W+/g, "-")}.example`;
  const sub = await call<{ subAccount: { id: string } }>(
    manager.key,
    `mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) { ... on CreateSubAccountSuccess { subAccount { id } } } }`,
    {
      input: { email, ...customer },
    },
    "subAccount",
  );
  const id = sub.subAccount.id;
  const key = await call<{ secret: string }>(
    manager.key,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeySuccess { secret } } }`,
    { input: { accountId: id, name: "demo" } },
    "secret",
  );
  if (!customer.rollupBilling) {
    await call(manager.key, `mutation($input: TransferBalanceInput!) { transferBalance(input: $input) { __typename } }`, {
      input: { fromAccountId: manager.id, toAccountId: id, amount: "60.00", idempotencyKey: `seed-${tag}-${i}` },
    });
  }
  for (let n = 0; n < 2; n++) {
    await call(key.secret, `mutation($input: ProvisionPhoneNumberInput!) { provisionPhoneNumber(input: $input) { __typename } }`, {
      input: { accountId: id, number: number(), friendlyName: n === 0 ? "Front desk" : "Support line" },
    });
  }
  for (const [product, quantity] of [
    ["SMS_OUTBOUND", 120 + i * 40],
    ["VOICE_OUTBOUND_MINUTE", 35 + i * 10],
    ["SMS_INBOUND", 80],
  ] as const) {
    await call(key.secret, `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename } }`, {
      input: { accountId: id, product, quantity, idempotencyKey: `seed-${tag}-${i}-${product}` },
    });
  }
  subs.push({ name: customer.organizationName, id, email, key: key.secret });
}
await call(manager.key, `mutation($input: SubAccountStatusInput!) { suspendSubAccount(input: $input) { __typename } }`, { input: { id: subs[2]!.id } });

const url = `http://${config.host}:${config.port}/graphql`;
console.log(`
Demo world "${tag}" created. Start the server (npm start), open ${url} in a browser,
and paste one of these into GraphiQL's Headers tab:

  Operator             {"Authorization": "Bearer ${operator.token}"}
  Manager (Acme)       {"Authorization": "Bearer ${manager.key}"}
${subs.map((s) => `  ${s.name.padEnd(20)} {"Authorization": "Bearer ${s.key}"}`).join("\n")}

Try as the manager:
  { viewer { account { email ... on Manager { balance { available { amount } } subAccounts(first: 20) {
      nodes { organizationName status effectiveStatus totalSpent { amount } phoneNumbers { nodes { number } } } } } } } }
`);
await disconnectDatabase();
await database.embedded?.stop();
