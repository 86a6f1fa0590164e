// The two charge paths must agree: provisioning a number charges through
// Prisma inside the provisioning transaction (billing.ts chargeUsage), while
// recordUsage charges in one SQL statement (usageCharges.ts), and the
// statement repeats the billing rules in SQL. Every case below runs through
// both paths, each on a fresh tree set up the same way, for the same product
// at the same price (recordUsage of one PHONE_NUMBER_MONTHLY is what a
// provisioning charges), so the two outcomes can be compared exactly: result
// type and error fields, every account's balance and totalSpent change, usage
// records and the new ledger entries.
import { describe, expect, it } from "vitest";
import { type GqlResponse, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, type TestAccount, topUp, unique, uniquePhoneNumber } from "../helpers/factories.js";
import { graphql, type ResultOf } from "../helpers/graphql.js";
import { expectInvariants, nodeWith, result } from "./operations.js";

/** The monthly price of a number on every tree below, in micros and as the API shows it. */
const PRICE_MICROS = 2_000_000n;
const PRICE = "2";

type Role = "manager" | "sub";

interface Case {
  name: string;
  /** The account charged (the number's account, the usage's account). */
  charged: Role;
  /** Whose key sends the charge: closed sub-accounts have no keys left, so their manager's. */
  caller: Role | "operator";
  /** The tree's sub-account, created by the manager. */
  sub: { rollupBilling?: boolean; creditLimit?: string };
  /** Top-ups before the charge (operator for the manager, the manager for its sub-account). */
  funds: Partial<Record<Role, string>>;
  /** A lifecycle change after the top-ups. */
  status?: "suspendSubAccount" | "closeSubAccount" | "suspendManager";
  /** Charged, and whose balance pays; or refused, with the error fields both paths must return. */
  expected: { payer: Role } | { refused: Record<string, unknown> };
}

/** What either path's mutation returns: a result union member, read for the fields both paths select. */
type ChargeResult = { __typename: string; [field: string]: unknown };

const insufficient = (message: string) => ({ __typename: "InsufficientFundsError", code: "INSUFFICIENT_FUNDS", message });
const notActive = (status: string, message: string) => ({ __typename: "AccountNotActiveError", code: "ACCOUNT_NOT_ACTIVE", status, message });

// DOMAIN.md (Billing): balances are prepaid and never go below zero; a
// creditLimit caps a sub-account's totalSpent, it is not an overdraft. So the
// credit-limit cases charge up to the limit exactly, refuse past it, and show
// that a limit with room left does not let an empty balance go negative.
const CASES: Case[] = [
  { name: "manager: its own balance pays", charged: "manager", caller: "manager", sub: {}, funds: { manager: "5" }, expected: { payer: "manager" } },
  {
    name: "sub-account with its own balance: that balance pays, the manager's is untouched",
    charged: "sub",
    caller: "sub",
    sub: {},
    funds: { manager: "5", sub: "5" },
    expected: { payer: "sub" },
  },
  {
    name: "rollup sub-account: the manager's balance pays, the sub-account's totalSpent grows",
    charged: "sub",
    caller: "sub",
    sub: { rollupBilling: true },
    funds: { manager: "5" },
    expected: { payer: "manager" },
  },
  {
    name: "rollup sub-account, charged by its manager",
    charged: "sub",
    caller: "manager",
    sub: { rollupBilling: true },
    funds: { manager: "5" },
    expected: { payer: "manager" },
  },
  {
    name: "credit limit: a charge that reaches the limit exactly is allowed",
    charged: "sub",
    caller: "sub",
    sub: { rollupBilling: true, creditLimit: PRICE },
    funds: { manager: "5" },
    expected: { payer: "manager" },
  },
  {
    name: "credit limit: a charge past the limit is refused",
    charged: "sub",
    caller: "sub",
    sub: { creditLimit: "1.5" },
    funds: { sub: "5" },
    expected: {
      refused: {
        __typename: "CreditLimitExceededError",
        code: "CREDIT_LIMIT_EXCEEDED",
        message: "This charge would take the account's total spent above its credit limit",
        creditLimit: { amount: "1.500000" },
        totalSpent: { amount: "0.000000" },
      },
    },
  },
  {
    name: "credit limit with room left: the balance still may not go negative",
    charged: "sub",
    caller: "sub",
    sub: { creditLimit: "10" },
    funds: { sub: "1" },
    expected: { refused: insufficient("The balance does not cover this charge") },
  },
  {
    name: "no funds: the manager's own balance does not cover it",
    charged: "manager",
    caller: "manager",
    sub: {},
    funds: { manager: "1.999999" },
    expected: { refused: insufficient("The balance does not cover this charge") },
  },
  {
    name: "no funds: the shared balance does not cover a rollup charge",
    charged: "sub",
    caller: "sub",
    sub: { rollupBilling: true },
    funds: { manager: "1" },
    expected: { refused: insufficient("The manager's shared balance does not cover this charge") },
  },
  {
    name: "suspended sub-account",
    charged: "sub",
    caller: "manager",
    sub: {},
    funds: { sub: "5" },
    status: "suspendSubAccount",
    expected: { refused: notActive("SUSPENDED", "The account is suspended") },
  },
  {
    name: "sub-account under a suspended manager",
    charged: "sub",
    caller: "sub",
    sub: { rollupBilling: true },
    funds: { manager: "5" },
    status: "suspendManager",
    expected: { refused: notActive("SUSPENDED", "The account's manager is suspended") },
  },
  {
    name: "suspended manager",
    charged: "manager",
    caller: "operator",
    sub: {},
    funds: { manager: "5" },
    status: "suspendManager",
    expected: { refused: notActive("SUSPENDED", "The account is suspended") },
  },
  {
    name: "closed sub-account",
    charged: "sub",
    caller: "manager",
    sub: {},
    funds: { sub: "5" },
    status: "closeSubAccount",
    expected: { refused: notActive("CLOSED", "The account is closed") },
  },
];

// ------------------------------------------------------------------ paths

// Both documents select the same result fields: `__typename ... on Error { code message } ... on
// AccountNotActiveError { status } ... on CreditLimitExceededError { creditLimit { amount } totalSpent { amount } }`.
const PATHS = {
  provisionPhoneNumber: (token: string, accountId: string) =>
    gql(
      graphql(`mutation($input: ProvisionPhoneNumberInput!) { provisionPhoneNumber(input: $input) {
        __typename ... on Error { code message } ... on AccountNotActiveError { status }
        ... on CreditLimitExceededError { creditLimit { amount } totalSpent { amount } } } }`),
      {
        token,
        variables: { input: { accountId, number: uniquePhoneNumber() } },
      },
    ),
  recordUsage: (token: string, accountId: string) =>
    gql(
      graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
        __typename ... on Error { code message } ... on AccountNotActiveError { status }
        ... on CreditLimitExceededError { creditLimit { amount } totalSpent { amount } } } }`),
      {
        token,
        variables: { input: { accountId, product: "PHONE_NUMBER_MONTHLY", quantity: 1, idempotencyKey: unique("charge-path") } },
      },
    ),
} satisfies Record<string, (token: string, accountId: string) => Promise<GqlResponse<Record<string, ChargeResult>>>>;
type PathName = keyof typeof PATHS;

// ------------------------------------------------------------------ trees

type Tree = Record<Role, TestAccount>;
const ROLES: readonly Role[] = ["manager", "sub"];
const perRole = <T>(value: (role: Role) => T): Record<Role, T> => ({ manager: value("manager"), sub: value("sub") });

async function treeFor(c: Case): Promise<Tree> {
  const manager = await createManager();
  // The manager's card, so the platform's default rates (other tests change them) cannot move the price.
  await setAccountPricing(manager.id, { PHONE_NUMBER_MONTHLY: PRICE });
  const sub = await createSubAccount(manager, c.sub);
  if (c.funds.manager) await topUp(manager.id, c.funds.manager);
  if (c.funds.sub) await topUp(sub.id, c.funds.sub, manager.token);
  if (c.status) {
    const [token, id] = c.status === "suspendManager" ? [OPERATOR_TOKEN, manager.id] : [manager.token, sub.id];
    const data = await gqlData<Record<string, { __typename: string }>>(`mutation($id: ID!) { ${c.status}(input: { id: $id }) { __typename } }`, {
      token,
      variables: { id },
    });
    expect(Object.values(data)[0]).toMatchObject({ __typename: expect.stringMatching(/Success$/) });
  }
  return { manager, sub };
}

// -------------------------------------------------------------- snapshots

const SNAPSHOT = graphql(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Account { id
  balance { available { amount } totalSpent { amount }
    ledger(first: 250) { nodes { id kind amount { amount } balanceAfter { amount } account { id } usageRecord { product quantity cost { amount } } } } }
  usageRecords(first: 250) { totalCount }
  phoneNumbers(first: 250, includeReleased: true) { totalCount } } } }`);

/** A ledger entry as SNAPSHOT selects it. */
type LedgerEntry = Extract<NonNullable<ResultOf<typeof SNAPSHOT>["nodes"][number]>, { balance: unknown }>["balance"]["ledger"]["nodes"][number];

interface AccountState {
  available: bigint;
  totalSpent: bigint;
  ledger: LedgerEntry[];
  usageRecords: number;
  phoneNumbers: number;
}

/** An amount as the API shows it (always six fractional digits) in micros. */
const micros = (amount: string): bigint => BigInt(amount.replace(".", ""));
const amountOf = (value: bigint): string => {
  const digits = (value < 0n ? -value : value).toString().padStart(7, "0");
  return `${value < 0n ? "-" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
};

/** Every account of the tree as the operator sees it (it sees every price and ledger). */
async function snapshot(tree: Tree): Promise<Record<Role, AccountState>> {
  const data = await gqlData(SNAPSHOT, { token: OPERATOR_TOKEN, variables: { ids: ROLES.map((r) => tree[r].id) } });
  return perRole((role) => {
    const node = nodeWith(data.nodes[ROLES.indexOf(role)], "balance");
    // The operator sees every balance's funds, a shared one's included.
    expect(node.balance.available, `${role}'s available`).not.toBeNull();
    return {
      available: micros(node.balance.available!.amount),
      totalSpent: micros(node.balance.totalSpent.amount),
      ledger: node.balance.ledger.nodes,
      usageRecords: node.usageRecords.totalCount,
      phoneNumbers: node.phoneNumbers.totalCount,
    };
  });
}

// ---------------------------------------------------------------- outcomes

/** What a charge did, in terms both paths share (not the record's key or the number itself). */
interface Outcome {
  result: Record<string, unknown>;
  accounts: Record<Role, { available: string; totalSpent: string; usageRecords: number; newLedgerEntries: Record<string, unknown>[] }>;
}

/** One path on a fresh tree: the outcome, with the path's own effects (the number) checked here. */
async function chargeThrough(path: PathName, c: Case): Promise<Outcome> {
  const tree = await treeFor(c);
  const token = c.caller === "operator" ? OPERATOR_TOKEN : tree[c.caller].token;
  const before = await snapshot(tree);
  const res: GqlResponse<Record<string, ChargeResult>> = await PATHS[path](token, tree[c.charged].id);
  const { __typename, ...fields } = result(res);
  const after = await snapshot(tree);

  const charged = __typename.endsWith("Success");
  // Only provisioning creates a number; a refused one leaves none behind.
  const numbers = after[c.charged].phoneNumbers - before[c.charged].phoneNumbers;
  expect(numbers, `${path}: phone numbers created`).toBe(path === "provisionPhoneNumber" && charged ? 1 : 0);
  await expectInvariants([tree.manager.id, tree.sub.id]);

  const role = (id: string | undefined) => ROLES.find((r) => tree[r].id === id) ?? id;
  const accounts = perRole((r) => {
    const seen = new Set(before[r].ledger.map((e) => e.id));
    return {
      available: amountOf(after[r].available - before[r].available),
      totalSpent: amountOf(after[r].totalSpent - before[r].totalSpent),
      usageRecords: after[r].usageRecords - before[r].usageRecords,
      newLedgerEntries: after[r].ledger.filter((e) => !seen.has(e.id)).map(({ id: _id, account, ...entry }) => ({ ...entry, account: role(account?.id) })),
    };
  });
  return { result: charged ? { __typename: "Success" } : { __typename, ...fields }, accounts };
}

/**
 * The outcome DOMAIN.md asks for: a charge debits the payer's balance (which
 * a rollup sub-account shows as its own), adds to the charged account's
 * totalSpent, writes one usage record on it and one CHARGE entry on the
 * payer's balance caused by it (a rollup sub-account's ledger lists the
 * manager's entries it caused); a refused charge changes nothing.
 */
function expectedOutcome(c: Case): Outcome {
  if ("refused" in c.expected) {
    return { result: c.expected.refused, accounts: perRole(() => ({ available: "0.000000", totalSpent: "0.000000", usageRecords: 0, newLedgerEntries: [] })) };
  }
  const { payer } = c.expected;
  const payerOf = (r: Role): Role => (r === "sub" && c.sub.rollupBilling ? "manager" : r);
  const entry = {
    kind: "CHARGE",
    amount: { amount: amountOf(-PRICE_MICROS) },
    balanceAfter: { amount: amountOf(expectedBalanceAfter(c, payer)) },
    account: c.charged,
    usageRecord: { product: "PHONE_NUMBER_MONTHLY", quantity: 1, cost: { amount: amountOf(PRICE_MICROS) } },
  };
  return {
    result: { __typename: "Success" },
    accounts: perRole((r) => {
      const pays = payerOf(r) === payer;
      return {
        available: amountOf(pays ? -PRICE_MICROS : 0n),
        totalSpent: amountOf(r === c.charged ? PRICE_MICROS : 0n),
        usageRecords: r === c.charged ? 1 : 0,
        // A rollup sub-account's ledger lists only the shared entries that it caused.
        newLedgerEntries: pays && (payerOf(r) === r || r === c.charged) ? [entry] : [],
      };
    }),
  };
}

/** The payer's balance after a successful charge: its top-up less the price. */
function expectedBalanceAfter(c: Case, payer: Role): bigint {
  const [whole = "0", fraction = ""] = (c.funds[payer] ?? "0").split(".");
  return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0")) - PRICE_MICROS;
}

describe("the two charge paths (provisioning through Prisma, recordUsage in one SQL statement)", () => {
  it.each(CASES)("$name", async (c) => {
    const outcomes = {} as Record<PathName, Outcome>;
    // One after the other: each builds its own tree, so neither sees the other's charge.
    for (const path of Object.keys(PATHS) as PathName[]) outcomes[path] = await chargeThrough(path, c);
    expect(outcomes.provisionPhoneNumber, "both paths give the same outcome").toEqual(outcomes.recordUsage);
    expect(outcomes.recordUsage, "the outcome DOMAIN.md asks for").toEqual(expectedOutcome(c));
  });
});
