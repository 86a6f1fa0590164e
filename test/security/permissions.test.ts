// Least-privilege keys (DOMAIN.md "Least-privilege keys"): the matrix of
// every permission against every operation and field family, for manager
// and sub-account keys, through the real HTTP layer.
//
// Each key holds one permission (or none, or all nine, or is unrestricted);
// each probe is one operation or one family of fields, with the permissions
// the contract says it needs (ApiKeyPermission's comments) and the roles
// that have it at all. A probe is allowed exactly when the key's role has it
// and the key holds what it needs; otherwise it is refused as FORBIDDEN
// (validation against the key's schema) or, for `node`, null like a missing
// row, and it changed nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS, type Permission } from "../../src/auth/actions.js";
import { prisma } from "../../src/db/client.js";
import { gql, gqlData } from "../helpers/app.js";
import {
  type ApiKeyPermission,
  createApiKey,
  createSubAccount,
  createWorld,
  fundCharges,
  provisionNumber,
  setAccountPricing,
  type TestAccount,
  topUp,
  unique,
  uniqueEmail,
  uniquePhoneNumber,
  type World,
} from "../helpers/factories.js";
import { dbId } from "../helpers/ids.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * What a plain-string document's response is read as: the probes are built
 * at run time, so their shapes are stated by the query beside each read
 * rather than by gql.tada.
 */
// biome-ignore lint/suspicious/noExplicitAny: run-time documents, see above
type Loose = any;

interface Answer {
  status: number;
  body: { data?: Loose; errors?: { message: string; extensions?: { code?: string; permission?: string } }[] };
}

/** One request as `token`, through the real HTTP layer (test/helpers/app.ts). */
const post = (token: string, query: string, variables: object = {}, headers: Record<string, string> = {}): Promise<Answer> =>
  gql<Loose, object>(query, { token, variables, headers });

/** Like post, but fails the test on any error; returns `data`. */
const data = (token: string, query: string, variables: object = {}, headers: Record<string, string> = {}): Promise<Loose> =>
  gqlData<Loose, object>(query, { token, variables, headers });

// ------------------------------------------------------------------ cast

type Kind = "manager" | "sub";
/** The keys of each kind: one per permission, none, all nine, and unrestricted. */
type KeyName = Permission | "NONE" | "ALL" | "UNRESTRICTED";
const KEY_NAMES: readonly KeyName[] = [...PERMISSIONS, "NONE", "ALL", "UNRESTRICTED"];
const heldBy = (key: KeyName): ReadonlySet<Permission> => new Set(key === "ALL" || key === "UNRESTRICTED" ? PERMISSIONS : key === "NONE" ? [] : [key]);

let w: World;
/** The account each kind's keys belong to (the manager, and its sub-account `sub`). */
const accountOf = (kind: Kind): TestAccount => (kind === "manager" ? w.manager : w.sub);
/** An unrestricted token that prepares what a probe needs (the manager's: it reaches both accounts). */
const preparer = () => w.manager.token;
const tokens = {} as Record<Kind, Record<KeyName, string>>;
let receiver: Receiver;
const savedInsecure = process.env.WEBHOOK_ALLOW_INSECURE;

async function restrictedKey(accountId: string, key: KeyName): Promise<string> {
  const permissions = key === "UNRESTRICTED" ? undefined : ([...heldBy(key)] as ApiKeyPermission[]);
  return (await createApiKey(preparer(), accountId, `matrix ${key}`, { permissions })).secret;
}

// ------------------------------------------------------------------ probes

interface Probe {
  name: string;
  /** The roles whose schema has it at all. */
  kinds: readonly Kind[];
  /** What a key must hold for it (every one). */
  needs: readonly Permission[];
  /** Sends it as `token`; true when it was served, false when refused. Throws on anything else. */
  run(kind: Kind, token: string): Promise<boolean>;
}

const BOTH: readonly Kind[] = ["manager", "sub"];
const MANAGER_ONLY: readonly Kind[] = ["manager"];
const NOBODY: readonly Kind[] = [];

/** Served (no error, the value at `path` present) or refused with FORBIDDEN before anything ran. */
function judgeRead(res: Answer, path: string[]): boolean {
  const errors = res.body.errors ?? [];
  if (errors.length) {
    if (res.status === 200 && errors.every((e) => e.extensions?.code === "FORBIDDEN") && res.body.data == null) return false;
    throw new Error(`unexpected answer: ${JSON.stringify(res.body)}`);
  }
  const value = path.reduce((v: Loose, key) => v?.[key], res.body.data);
  if (value === undefined || value === null) throw new Error(`nothing at ${path.join(".")}: ${JSON.stringify(res.body)}`);
  return true;
}

/**
 * A read of the key's own account through `viewer.account`: served when the
 * selection's first field came back (a fragment on the other kind of account
 * just does not apply).
 */
function accountRead(name: string, kinds: readonly Kind[], needs: readonly Permission[], selection: string, variables: object = {}): Probe {
  const args = Object.keys(variables).length ? `(${Object.keys(variables).map((v) => `$${v}: DateTime!`)})` : "";
  const first = /^(?:\.\.\. on \w+ \{ )?(\w+)/.exec(selection)![1]!;
  return {
    name,
    kinds,
    needs,
    run: async (kind, token) => {
      const res = await post(token, `query${args} { viewer { account { id ${selection} } } }`, variables);
      // A fragment on the other kind of account validates (a manager's schema has SubAccount) and just does not apply.
      const onOtherKind = selection.startsWith(kind === "manager" ? "... on SubAccount" : "... on Manager");
      if (onOtherKind && !res.body.errors && res.body.data?.viewer?.account && !(first in res.body.data.viewer.account)) return false;
      return judgeRead(res, ["viewer", "account", first]);
    },
  };
}

/** `node(id)` on a row of the key's tree: served (the row) or null, exactly like a missing row. */
function nodeRead(name: string, kinds: readonly Kind[], needs: readonly Permission[], idOf: (kind: Kind) => string): Probe {
  return {
    name,
    kinds,
    needs,
    run: async (kind, token) => {
      const id = idOf(kind);
      const res = await post(token, `query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }`, { id });
      if (res.body.errors?.length) throw new Error(JSON.stringify(res.body.errors));
      const { node, nodes } = res.body.data;
      expect(nodes[0]).toEqual(node);
      if (node === null) return false;
      expect(node.id).toBe(id);
      return true;
    },
  };
}

const period = { from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z" };
/** Rows of each kind's account, made once: the targets of `node` probes. */
const rows = {} as Record<
  Kind,
  { event: string; phoneNumber: string; apiKey: string; usageRecord: string; auditEvent: string; endpoint: string; trigger: string }
>;
let ledgerEntryId: string;
let deliveryId: Record<Kind, string | undefined>;

const READS: Probe[] = [
  accountRead("the account's id (any key names the accounts it reaches)", BOTH, [], "__typename"),
  accountRead("the account's fields", BOTH, ["ACCOUNTS_READ"], "email organizationName status createdAt updatedAt"),
  accountRead("manager fields", MANAGER_ONLY, ["ACCOUNTS_READ"], "... on Manager { subAccountLimit autoDeleteClosedSubAccounts }"),
  accountRead(
    "sub-account fields",
    ["sub"],
    ["ACCOUNTS_READ"],
    "... on SubAccount { managerEmail rollupBilling creditLimit { amount } totalSpent { amount } effectiveStatus }",
  ),
  accountRead("Account.apiKeys", BOTH, ["ACCOUNTS_READ"], "apiKeys { totalCount nodes { name permissions } }"),
  accountRead("Account.phoneNumbers", BOTH, ["ACCOUNTS_READ"], "phoneNumbers { totalCount nodes { number } }"),
  accountRead("Account.balance", BOTH, ["ACCOUNTS_READ"], "balance { available { amount } totalSpent { amount } }"),
  accountRead("Account.usageRecords (quantities)", BOTH, ["ACCOUNTS_READ"], "usageRecords { totalCount nodes { quantity } }"),
  accountRead("Account.usageSummary (quantities)", BOTH, ["ACCOUNTS_READ"], "usageSummary(from: $from, to: $to) { lines { quantity } }", period),
  accountRead("Account.auditEvents", BOTH, ["ACCOUNTS_READ"], "auditEvents { totalCount nodes { action } }"),
  accountRead("Manager.subAccounts", MANAGER_ONLY, ["ACCOUNTS_READ"], "... on Manager { subAccounts { totalCount nodes { id email } } }"),
  accountRead("Manager.usageReport (quantities)", MANAGER_ONLY, ["ACCOUNTS_READ"], "... on Manager { usageReport { totalCount nodes { quantity } } }"),
  accountRead("SubAccount.usageReport (quantities)", ["sub"], ["ACCOUNTS_READ"], "... on SubAccount { usageReport { totalCount nodes { quantity } } }"),
  accountRead("Manager.pricing", MANAGER_ONLY, ["BILLING_READ"], "... on Manager { pricing { source rates { unitPrice { amount } } } }"),
  accountRead("Balance.ledger", MANAGER_ONLY, ["ACCOUNTS_READ", "BILLING_READ"], "balance { ledger { totalCount nodes { amount { amount } } } }"),
  accountRead("UsageRecord.cost", MANAGER_ONLY, ["ACCOUNTS_READ", "BILLING_READ"], "usageRecords { nodes { cost { amount } } }"),
  accountRead(
    "usage costs (summary, report)",
    MANAGER_ONLY,
    ["ACCOUNTS_READ", "BILLING_READ"],
    "usageSummary(from: $from, to: $to) { totalCost { amount } } ... on Manager { usageReport { totals { totalCost { amount } } } }",
    period,
  ),
  accountRead("PhoneNumber.monthlyPrice", MANAGER_ONLY, ["ACCOUNTS_READ", "BILLING_READ"], "phoneNumbers { nodes { monthlyPrice { amount } } }"),
  accountRead("Account.events", BOTH, ["EVENTS_READ"], "events { totalCount nodes { type data } }"),
  accountRead("Account.webhookEndpoints", BOTH, ["WEBHOOKS_WRITE"], "webhookEndpoints { totalCount nodes { url } }"),
  accountRead("WebhookEndpoint.deliveries", BOTH, ["WEBHOOKS_WRITE"], "webhookEndpoints { nodes { deliveries { totalCount } } }"),
  accountRead("Account.usageTriggers", BOTH, ["WEBHOOKS_WRITE"], "usageTriggers { totalCount nodes { threshold { amount } } }"),
  nodeRead("node: the account", BOTH, [], (kind) => accountOf(kind).id),
  nodeRead("node: an event", BOTH, ["EVENTS_READ"], (kind) => rows[kind].event),
  nodeRead("node: a phone number", BOTH, ["ACCOUNTS_READ"], (kind) => rows[kind].phoneNumber),
  nodeRead("node: an API key", BOTH, ["ACCOUNTS_READ"], (kind) => rows[kind].apiKey),
  nodeRead("node: a usage record", BOTH, ["ACCOUNTS_READ"], (kind) => rows[kind].usageRecord),
  nodeRead("node: an audit event", BOTH, ["ACCOUNTS_READ"], (kind) => rows[kind].auditEvent),
  nodeRead("node: a webhook endpoint", BOTH, ["WEBHOOKS_WRITE"], (kind) => rows[kind].endpoint),
  nodeRead("node: a webhook delivery", BOTH, ["WEBHOOKS_WRITE"], (kind) => deliveryId[kind]!),
  nodeRead("node: a usage trigger", BOTH, ["WEBHOOKS_WRITE"], (kind) => rows[kind].trigger),
  nodeRead("node: a ledger entry", MANAGER_ONLY, ["BILLING_READ"], () => ledgerEntryId),
  {
    name: "Query.managers",
    kinds: NOBODY,
    needs: ["ACCOUNTS_READ"],
    run: async (_kind, token) => judgeRead(await post(token, "{ managers { totalCount } }"), ["managers"]),
  },
];

// ------------------------------------------------------------------ mutations

/** Every row a change could touch in the world's two trees, as one comparable snapshot. */
async function snapshot(): Promise<unknown> {
  const trees = { OR: [{ treeManagerId: dbId(w.manager.id) }, { treeManagerId: dbId(w.otherManager.id) }] };
  const accounts = { OR: [{ id: dbId(w.manager.id) }, { managerId: dbId(w.manager.id) }] };
  const [auditEvents, events, ledger, keys, numbers, endpoints, triggers, deliveries, accountRows] = await Promise.all([
    prisma.auditEvent.count({ where: trees }),
    prisma.event.count({ where: trees }),
    prisma.ledgerEntry.count({ where: { balanceAccount: accounts } }),
    prisma.apiKey.findMany({ where: { account: accounts }, select: { id: true, revokedAt: true, expiresAt: true }, orderBy: { id: "asc" } }),
    prisma.phoneNumber.findMany({ where: { account: accounts }, select: { id: true, accountId: true, status: true }, orderBy: { id: "asc" } }),
    prisma.webhookEndpoint.findMany({
      where: { account: accounts },
      select: { id: true, enabled: true, url: true, description: true, eventTypes: true },
      orderBy: { id: "asc" },
    }),
    prisma.usageTrigger.count({ where: { account: accounts } }),
    prisma.webhookDelivery.count({ where: { endpoint: { account: accounts } } }),
    prisma.account.findMany({ where: accounts, select: { id: true, updatedAt: true, balanceMicros: true, status: true }, orderBy: { id: "asc" } }),
  ]);
  return { auditEvents, events, ledger, keys, numbers, endpoints, triggers, deliveries, accountRows };
}

/**
 * A mutation probe: `input` builds a valid input for the kind (making what
 * it needs with an unrestricted token); a refused attempt leaves it unused,
 * so the next attempt reuses it.
 */
function mutation(
  name: string,
  kinds: readonly Kind[],
  needs: readonly Permission[],
  input: (kind: Kind, key: KeyName) => Promise<object>,
  inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`,
): Probe {
  const prepared = new Map<string, object>();
  return {
    name,
    kinds,
    needs,
    run: async (kind, token) => {
      // The input of a key that holds KEYS_WRITE names only what it holds (no escalation); prepared per kind otherwise.
      const slot = `${kind}:${name === "createApiKey" || name === "rollApiKey" ? token : ""}`;
      let given = prepared.get(slot);
      if (!given) {
        given = await input(kind, KEY_NAMES.find((k) => tokens[kind][k] === token)!);
        prepared.set(slot, given);
      }
      const before = await snapshot();
      const res = await post(token, `mutation($input: ${inputType}!) { ${name}(input: $input) { __typename ... on Error { code message } } }`, {
        input: given,
      });
      const errors = res.body.errors ?? [];
      if (errors.length) {
        if (!(res.status === 200 && res.body.data == null && errors.every((e) => e.extensions?.code === "FORBIDDEN"))) {
          throw new Error(`${name}: unexpected answer ${JSON.stringify(res.body)}`);
        }
        expect(await snapshot(), `${name} refused, yet something changed`).toEqual(before);
        return false;
      }
      const typename = res.body.data[name].__typename as string;
      if (!typename.endsWith("Success")) throw new Error(`${name} as ${kind}: ${JSON.stringify(res.body.data[name])}`);
      prepared.delete(slot);
      return true;
    },
  };
}

/**
 * The event types this file's endpoints take: one nothing here causes, so
 * no dispatcher (this file's or, on a shared Postgres, another's) queues
 * deliveries to them, and a refused redelivery is seen as no new delivery.
 */
const QUIET = ["SUB_ACCOUNT_PURGED"];
const idOf = async (query: string, variables: object, pick: (d: Loose) => string) => pick(await data(preparer(), query, variables));
const newSubAccount = () => createSubAccount(w.manager);
async function newEndpoint(accountId: string): Promise<string> {
  return idOf(
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { ... on CreateWebhookEndpointSuccess { endpoint { id } } ... on Error { message } } }`,
    { input: { accountId, url: `${receiver.url}/hooks`, eventTypes: QUIET } },
    (d) => d.createWebhookEndpoint.endpoint.id,
  );
}
async function newTrigger(accountId: string): Promise<string> {
  return idOf(
    `mutation($input: CreateUsageTriggerInput!) { createUsageTrigger(input: $input) { ... on CreateUsageTriggerSuccess { trigger { id } } ... on Error { message } } }`,
    { input: { accountId, condition: "SPEND_REACHES", threshold: "1000.00", period: "MONTHLY", action: "NOTIFY" } },
    (d) => d.createUsageTrigger.trigger.id,
  );
}
async function recordOne(accountId: string): Promise<string> {
  return idOf(
    `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { ... on RecordUsageSuccess { usageRecord { id } } ... on Error { message } } }`,
    { input: { accountId, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("matrix") } },
    (d) => d.recordUsage.usageRecord.id,
  );
}
const eventOf = async (accountId: string) =>
  (await prisma.event.findFirst({ where: { accountId: dbId(accountId), type: "USAGE_RECORDED" }, orderBy: { occurredAt: "desc" } }))!.id;
const globalId = (typename: string, id: string) => Buffer.from(`${typename}:${id}`).toString("base64");

const MUTATIONS: Probe[] = [
  mutation("updateManager", MANAGER_ONLY, ["ACCOUNTS_WRITE"], async () => ({ id: w.manager.id, organizationName: unique("org") })),
  mutation("createSubAccount", MANAGER_ONLY, ["ACCOUNTS_WRITE"], async () => ({ email: uniqueEmail("matrix") })),
  mutation("updateSubAccount", BOTH, ["ACCOUNTS_WRITE"], async () => ({ id: w.sub.id, organizationName: unique("org") })),
  mutation("suspendSubAccount", MANAGER_ONLY, ["ACCOUNTS_WRITE"], async () => ({ id: (await newSubAccount()).id }), "SubAccountStatusInput"),
  mutation(
    "reactivateSubAccount",
    MANAGER_ONLY,
    ["ACCOUNTS_WRITE"],
    async () => {
      const sub = await newSubAccount();
      await data(preparer(), `mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename } }`, { id: sub.id });
      return { id: sub.id };
    },
    "SubAccountStatusInput",
  ),
  mutation("closeSubAccount", MANAGER_ONLY, ["ACCOUNTS_WRITE"], async () => ({ id: (await newSubAccount()).id }), "SubAccountStatusInput"),
  mutation("createApiKey", BOTH, ["KEYS_WRITE"], async (kind, key) => ({
    accountId: accountOf(kind).id,
    name: unique("k"),
    permissions: key === "UNRESTRICTED" ? null : [...heldBy(key)],
  })),
  mutation("revokeApiKey", BOTH, ["KEYS_WRITE"], async (kind) => ({ id: (await createApiKey(preparer(), accountOf(kind).id, "to revoke")).id })),
  mutation("rollApiKey", BOTH, ["KEYS_WRITE"], async (kind, key) => ({
    id: (
      await createApiKey(preparer(), accountOf(kind).id, "to roll", {
        permissions: key === "UNRESTRICTED" ? undefined : ([...heldBy(key)] as ApiKeyPermission[]),
      })
    ).id,
    expireCurrentInSeconds: 0,
  })),
  mutation("provisionPhoneNumber", BOTH, ["NUMBERS_WRITE"], async (kind) => {
    await fundCharges(accountOf(kind).id);
    return { accountId: accountOf(kind).id, number: uniquePhoneNumber() };
  }),
  mutation("transferPhoneNumber", MANAGER_ONLY, ["NUMBERS_WRITE"], async () => ({
    id: (await provisionNumber(preparer(), w.sub.id)).id,
    toAccountId: w.sibling.id,
  })),
  mutation("releasePhoneNumber", BOTH, ["NUMBERS_WRITE"], async (kind) => ({ id: (await provisionNumber(preparer(), accountOf(kind).id)).id })),
  mutation("topUpBalance", BOTH, ["BILLING_WRITE"], async (kind) => ({ accountId: accountOf(kind).id, amount: "1.00", idempotencyKey: unique("t") })),
  mutation("transferBalance", MANAGER_ONLY, ["BILLING_WRITE"], async () => ({
    fromAccountId: w.manager.id,
    toAccountId: w.sub.id,
    amount: "0.01",
    idempotencyKey: unique("tr"),
  })),
  mutation("recordUsage", BOTH, ["USAGE_WRITE"], async (kind) => ({
    accountId: accountOf(kind).id,
    product: "SMS_OUTBOUND",
    quantity: 1,
    idempotencyKey: unique("u"),
  })),
  mutation("createWebhookEndpoint", BOTH, ["WEBHOOKS_WRITE", "EVENTS_READ"], async (kind) => ({
    accountId: accountOf(kind).id,
    url: `${receiver.url}/hooks`,
    eventTypes: QUIET,
  })),
  mutation("updateWebhookEndpoint", BOTH, ["WEBHOOKS_WRITE", "EVENTS_READ"], async (kind) => ({
    id: await newEndpoint(accountOf(kind).id),
    description: unique("d"),
  })),
  mutation("deleteWebhookEndpoint", BOTH, ["WEBHOOKS_WRITE"], async (kind) => ({ id: await newEndpoint(accountOf(kind).id) })),
  mutation("redeliverWebhookEvent", BOTH, ["WEBHOOKS_WRITE", "EVENTS_READ"], async (kind) => ({
    endpointId: await newEndpoint(accountOf(kind).id),
    eventId: globalId("Event", await eventOf(accountOf(kind).id)),
  })),
  mutation("createUsageTrigger", BOTH, ["WEBHOOKS_WRITE"], async (kind) => ({
    accountId: accountOf(kind).id,
    condition: "SPEND_REACHES",
    threshold: "500.00",
    period: "DAILY",
    action: "NOTIFY",
  })),
  mutation("deleteUsageTrigger", BOTH, ["WEBHOOKS_WRITE"], async (kind) => ({ id: await newTrigger(accountOf(kind).id) })),
  // Operators only: no key has them, whatever it holds.
  mutation("createManager", NOBODY, ["ACCOUNTS_WRITE"], async () => ({ email: uniqueEmail("m") })),
  mutation("suspendManager", NOBODY, ["ACCOUNTS_WRITE"], async () => ({ id: w.otherManager.id }), "ManagerStatusInput"),
  mutation("setPlatformPricing", NOBODY, ["BILLING_WRITE"], async () => ({ rates: [{ product: "SMS_OUTBOUND", unitPrice: "0.01" }] })),
  mutation(
    "setAccountPricing",
    NOBODY,
    ["BILLING_WRITE"],
    async (kind) => ({
      accountId: accountOf(kind).id,
      rates: [{ product: "SMS_OUTBOUND", unitPrice: "0.01" }],
    }),
    "SetPricingInput",
  ),
];

// ------------------------------------------------------------------ setup

beforeAll(async () => {
  process.env.WEBHOOK_ALLOW_INSECURE = "true";
  receiver = await startReceiver();
  w = await createWorld();
  await setAccountPricing(w.manager.id, { SMS_OUTBOUND: "0.01" });
  await Promise.all([fundCharges(w.manager.id), fundCharges(w.sub.id), fundCharges(w.sibling.id)]);
  await topUp(w.manager.id, "10");
  for (const kind of ["manager", "sub"] as const) {
    const account = accountOf(kind);
    tokens[kind] = Object.fromEntries(await Promise.all(KEY_NAMES.map(async (key) => [key, await restrictedKey(account.id, key)]))) as Record<KeyName, string>;
    const usageRecord = await recordOne(account.id);
    rows[kind] = {
      usageRecord,
      event: globalId("Event", await eventOf(account.id)),
      phoneNumber: (await provisionNumber(preparer(), account.id)).id,
      apiKey: (await createApiKey(preparer(), account.id, "a node")).id,
      auditEvent: globalId("AuditEvent", (await prisma.auditEvent.findFirst({ where: { accountId: dbId(account.id) } }))!.id),
      endpoint: await newEndpoint(account.id),
      trigger: await newTrigger(account.id),
    };
  }
  const entry = await prisma.ledgerEntry.findFirst({ where: { balanceAccountId: dbId(w.manager.id) } });
  ledgerEntryId = globalId("LedgerEntry", entry!.id);
  // A delivery row of each kind's endpoint, so `node` has one to find.
  deliveryId = { manager: undefined, sub: undefined };
  for (const kind of ["manager", "sub"] as const) {
    const endpoint = dbId(rows[kind].endpoint);
    const delivery = await prisma.webhookDelivery.create({ data: { endpointId: endpoint, eventId: dbId(rows[kind].event) } });
    deliveryId[kind] = globalId("WebhookDelivery", delivery.id);
  }
}, 60_000);

afterAll(async () => {
  await receiver.close();
  if (savedInsecure === undefined) delete process.env.WEBHOOK_ALLOW_INSECURE;
  else process.env.WEBHOOK_ALLOW_INSECURE = savedInsecure;
});

// ------------------------------------------------------------------ the matrix

const expected = (probe: Probe, kind: Kind, key: KeyName) => probe.kinds.includes(kind) && probe.needs.every((p) => heldBy(key).has(p));

describe.each(["manager", "sub"] as const)("a %s key", (kind) => {
  it.each(KEY_NAMES)("restricted to %s: reads exactly the field families its permissions cover", async (key) => {
    const rowsOf = [];
    for (const probe of READS) rowsOf.push({ probe: probe.name, served: await probe.run(kind, tokens[kind][key]) });
    expect(rowsOf).toEqual(READS.map((probe) => ({ probe: probe.name, served: expected(probe, kind, key) })));
  });

  it.each(KEY_NAMES)("restricted to %s: makes exactly the changes its permissions cover, and a refused one changes nothing", async (key) => {
    const rowsOf = [];
    for (const probe of MUTATIONS) rowsOf.push({ probe: probe.name, served: await probe.run(kind, tokens[kind][key]) });
    expect(rowsOf).toEqual(MUTATIONS.map((probe) => ({ probe: probe.name, served: expected(probe, kind, key) })));
  });
});
