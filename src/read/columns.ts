import { type GraphQLCompositeType, getNamedType, isCompositeType, type SelectionSetNode } from "graphql";
import { compositeFieldType, type FieldSelection, selectedFields } from "./selections.js";
import type { Model } from "./tables.js";

// Which columns a list must read for the fields a query asks of its items.
// Reading only those is most of what makes a wide list cheap: every column
// of every row is parsed by the driver and allocated in Node (timestamps
// into Dates), and 250 sub-accounts with 750 numbers are a lot of cells.
//
// Only fields listed here narrow the read. Any other field (balance,
// pricing, anything added later) makes the list read whole rows, so a new
// field can never see a column that was left out; test/read/columns.test.ts
// checks every field against a whole-row read.

/** Columns each field of a model's object types reads from its row. */
export const FIELD_COLUMNS: Record<Model, Record<string, readonly string[]>> = {
  Account: {
    __typename: [],
    id: [],
    email: ["email"],
    organizationName: ["organizationName"],
    status: ["status"],
    createdAt: ["createdAt"],
    updatedAt: ["updatedAt"],
    suspendedAt: ["suspendedAt"],
    closedAt: ["closedAt"],
    rollupBilling: ["rollupBilling"],
    allowCustomPricing: ["allowCustomPricing"],
    creditLimit: ["creditLimitMicros"],
    totalSpent: ["totalSpentMicros"],
    subAccountLimit: ["subAccountLimit"],
    autoDeleteClosedSubAccounts: ["autoDeleteClosedSubAccounts"],
    // Read from the manager's row (read/accounts.ts managerRowOf).
    managerEmail: ["managerId"],
    manager: ["managerId"],
    effectiveStatus: ["status", "managerId"],
    scheduledDeletionAt: ["closedAt", "managerId"],
    // What billing reads of the row (domain/billing.ts balanceView, ledgerOf;
    // services/pricing.ts loadPriceLists); the manager's balance comes from its row.
    balance: ["rollupBilling", "balanceMicros", "creditLimitMicros", "totalSpentMicros", "managerId"],
    pricing: ["managerId", "allowCustomPricing"],
    // Lists and summaries keyed by the account's id.
    phoneNumbers: [],
    apiKeys: [],
    usageSummary: [],
    usageRecords: [],
    subAccounts: [],
    auditEvents: [],
  },
  PhoneNumber: {
    __typename: [],
    id: ["id"],
    number: ["number"],
    status: ["status"],
    friendlyName: ["friendlyName"],
    createdAt: ["createdAt"],
    releasedAt: ["releasedAt"],
    account: ["accountId"],
    monthlyPrice: ["accountId"],
  },
  ApiKey: {
    __typename: [],
    id: ["id"],
    name: ["name"],
    prefix: ["prefix"],
    createdAt: ["createdAt"],
    lastUsedAt: ["lastUsedAt"],
    revokedAt: ["revokedAt"],
    account: ["accountId"],
  },
};

/**
 * Every row keeps these. An account's id is what all its lists and balances
 * hang off, and its kind tells its type apart. A number or a key is a leaf:
 * its id is read only when the query needs it, for its `id`, a cursor
 * (`edges`, `pageInfo`) or anything read whole; in a tree of 250
 * sub-accounts asking for their numbers, ids were most of the numbers' bytes.
 */
const ALWAYS: Record<Model, readonly string[]> = { Account: ["id", "kind"], PhoneNumber: [], ApiKey: [] };

/**
 * The columns to read for the items of a connection field (its `nodes` and
 * `edges.node`, through fragments), or undefined for whole rows when some
 * field asked for is not in FIELD_COLUMNS.
 */
export function narrowColumns(model: Model, selection: FieldSelection): string[] | undefined {
  const known = FIELD_COLUMNS[model];
  const columns = new Set(ALWAYS[model]);
  let whole = false;
  const connectionType = getNamedType(selection.returnType);
  if (!isCompositeType(connectionType)) return undefined;
  const fieldsOn = (sets: readonly (SelectionSetNode | undefined)[], type: GraphQLCompositeType) => selectedFields(selection, sets, type);
  const addItemColumns = (set: SelectionSetNode | undefined, itemType: GraphQLCompositeType) => {
    for (const { field } of fieldsOn([set], itemType)) {
      const needs = known[field.name.value];
      if (needs) for (const c of needs) columns.add(c);
      else whole = true;
    }
  };
  for (const { field, parentType } of fieldsOn(
    selection.fieldNodes.map((n) => n.selectionSet),
    connectionType,
  )) {
    const name = field.name.value;
    if (name === "nodes") {
      const itemType = compositeFieldType(parentType, "nodes");
      if (itemType) addItemColumns(field.selectionSet, itemType);
    } else if (name === "edges") {
      // An edge's cursor, and pageInfo's, are made from the row's id.
      columns.add("id");
      const edgeType = compositeFieldType(parentType, "edges");
      if (!edgeType) continue;
      for (const edgeField of fieldsOn([field.selectionSet], edgeType)) {
        const itemType = edgeField.field.name.value === "node" ? compositeFieldType(edgeField.parentType, "node") : undefined;
        if (itemType) addItemColumns(edgeField.field.selectionSet, itemType);
      }
    } else if (name === "pageInfo") columns.add("id");
  }
  return whole ? undefined : [...columns].sort();
}
