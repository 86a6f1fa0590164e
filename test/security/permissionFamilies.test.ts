// The permission every field needs is declared where the field is defined
// (schema/permissionsPlugin.ts). This walks the built schema so that a new
// field cannot open a way around a restriction by forgetting to declare one:
// - every field that leads to rows of a type needing a permission (Event,
//   LedgerEntry, WebhookEndpoint...) declares that permission itself, so its
//   resolver refuses a key without it (the second line behind the schema);
// - every field of an account but its id needs ACCOUNTS_READ;
// - every field that only managers and operators may read (prices, costs,
//   ledgers) needs BILLING_READ;
// - `node` reaches each type only with the permission its rows need.
import { assertEnumType, type GraphQLField, type GraphQLNamedType, getNamedType, isInterfaceType, isObjectType, printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { ACTIONS, type Action, PERMISSIONS as ALL_PERMISSIONS, type Permission, permissionsOfAction } from "../../src/auth/actions.js";
import { prisma } from "../../src/db/client.js";
import { schema } from "../../src/schema/index.js";
import { nodePermissionOf } from "../../src/schema/node.js";
import { createSchemaSelector } from "../../src/schema/roleSchemas.js";

interface Declared {
  permission?: Permission;
  action?: Action;
  visibleTo?: unknown;
  pothosOptions?: { authScopes?: Record<string, unknown>; extensions?: { permission?: Permission; action?: Action } };
}
const declared = (extensions: unknown): Declared => {
  const own = (extensions ?? {}) as Declared;
  return { ...own.pothosOptions?.extensions, ...own, pothosOptions: own.pothosOptions };
};
const permissionOfField = (field: GraphQLField<unknown, unknown>) => {
  const ext = declared(field.extensions);
  return ext.permission ?? (ext.action ? ACTIONS[ext.action].permission : undefined);
};

/** The type a field leads to, through lists, non-null, connections and edges. */
function rowsOf(field: GraphQLField<unknown, unknown>): GraphQLNamedType {
  let type = getNamedType(field.type);
  for (const wrapper of ["edges", "node"]) {
    if (isObjectType(type) && /(Connection|Edge)$/.test(type.name) && type.getFields()[wrapper]) type = getNamedType(type.getFields()[wrapper]!.type);
  }
  return type;
}

const fields = Object.values(schema.getTypeMap())
  .filter((type) => !type.name.startsWith("__") && (isObjectType(type) || isInterfaceType(type)))
  .flatMap((type) => Object.values((type as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields()).map((field) => ({ type, field })));

describe("the permission each field needs", () => {
  it("every field leading to a type whose rows need a permission declares it (so its resolver refuses a key without it)", () => {
    const missing = fields.flatMap(({ type, field }) => {
      const needed = declared(rowsOf(field).extensions).permission;
      // Connection and edge types are the list field's own wrapping: the list field declares it.
      if (!needed || /(Connection|Edge)$/.test(type.name)) return [];
      return permissionOfField(field) === needed ? [] : [`${type.name}.${field.name} -> ${rowsOf(field).name} (${needed})`];
    });
    expect(missing).toEqual([]);
  });

  it("every field of an account but its id (and the way to another account's id) needs a permission: ACCOUNTS_READ unless it leads to events, webhooks or prices", () => {
    const accountFields = fields.filter(({ type }) => ["Account", "Manager", "SubAccount"].includes(type.name));
    // A field leading to another account (SubAccount.manager) gives its id, which needs nothing; its fields need ACCOUNTS_READ in turn.
    const leadsToAccount = (field: GraphQLField<unknown, unknown>) => ["Account", "Manager", "SubAccount"].includes(rowsOf(field).name);
    const accountData = accountFields.filter(({ field }) => field.name !== "id" && !leadsToAccount(field));
    expect(accountData.filter(({ field }) => !permissionOfField(field)).map(({ type, field }) => `${type.name}.${field.name}`)).toEqual([]);
    const others = new Set(
      accountData.filter(({ field }) => permissionOfField(field) !== "ACCOUNTS_READ").map(({ field }) => `${field.name}:${permissionOfField(field)}`),
    );
    expect([...others].sort()).toEqual(["events:EVENTS_READ", "pricing:BILLING_READ", "usageTriggers:WEBHOOKS_WRITE", "webhookEndpoints:WEBHOOKS_WRITE"]);
  });

  it("every field only managers and operators may read (prices, costs, ledgers) needs BILLING_READ; the manager of a sub-account is its id only", () => {
    const privileged = fields.filter(({ field }) => declared(field.extensions).pothosOptions?.authScopes?.privileged === true);
    expect(privileged.length).toBeGreaterThan(8);
    const wrong = privileged
      .filter(({ type, field }) => !(type.name === "SubAccount" && field.name === "manager") && permissionOfField(field) !== "BILLING_READ")
      .map(({ type, field }) => `${type.name}.${field.name}: ${permissionOfField(field)}`);
    expect(wrong).toEqual([]);
  });

  it("every mutation needs the permissions of its action, as the contract's ApiKeyPermission comments say", () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());
    const byPermission: Record<string, string[]> = {};
    for (const m of mutations) {
      const needs = permissionsOfAction(declared(m.extensions).action!).join("+");
      byPermission[needs] = [...(byPermission[needs] ?? []), m.name];
    }
    for (const list of Object.values(byPermission)) list.sort();
    expect(byPermission).toEqual({
      ACCOUNTS_WRITE: [
        "closeSubAccount",
        "createManager",
        "createSubAccount",
        "reactivateManager",
        "reactivateSubAccount",
        "suspendManager",
        "suspendSubAccount",
        "updateManager",
        "updateSubAccount",
      ],
      KEYS_WRITE: ["createApiKey", "revokeApiKey", "rollApiKey"],
      NUMBERS_WRITE: ["provisionPhoneNumber", "releasePhoneNumber", "transferPhoneNumber"],
      BILLING_WRITE: ["setAccountPricing", "setPlatformPricing", "topUpBalance", "transferBalance"],
      USAGE_WRITE: ["recordUsage"],
      WEBHOOKS_WRITE: ["createUsageTrigger", "deleteUsageTrigger", "deleteWebhookEndpoint"],
      // An endpoint receives events: making, changing or feeding one reads them.
      "WEBHOOKS_WRITE+EVENTS_READ": ["createWebhookEndpoint", "redeliverWebhookEvent", "updateWebhookEndpoint"],
    });
  });

  it("`node` reaches each type only with the permission its rows need (accounts: any key, for their id)", () => {
    const nodeTypes = Object.values(schema.getTypeMap()).filter((type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === "Node"));
    const table = Object.fromEntries(nodeTypes.map((type) => [type.name, nodePermissionOf(type.name)]));
    expect(table).toEqual({
      ApiKey: "ACCOUNTS_READ",
      AuditEvent: "ACCOUNTS_READ",
      Event: "EVENTS_READ",
      LedgerEntry: "BILLING_READ",
      Manager: null,
      PhoneNumber: "ACCOUNTS_READ",
      SubAccount: null,
      UsageRecord: "ACCOUNTS_READ",
      UsageTrigger: "WEBHOOKS_WRITE",
      WebhookDelivery: "WEBHOOKS_WRITE",
      WebhookEndpoint: "WEBHOOKS_WRITE",
    });
    // A type whose rows need a permission names the same one for `node`.
    for (const type of nodeTypes) {
      const typePermission = declared(type.extensions).permission;
      if (typePermission) expect(nodePermissionOf(type.name), type.name).toBe(typePermission);
    }
  });
});

describe("the permissions themselves", () => {
  it("are the same nine in the schema's ApiKeyPermission, the database enum and the actions table, in one order", async () => {
    const enumType = assertEnumType(schema.getType("ApiKeyPermission"));
    // The printed schema sorts enum values by name; the contract's order is the table's and the database's.
    expect(
      enumType
        .getValues()
        .map((v) => v.name)
        .sort(),
    ).toEqual([...ALL_PERMISSIONS].sort());
    for (const value of enumType.getValues()) expect(value.description, value.name).toBeTruthy();
    const rows = await prisma.$queryRawUnsafe<{ value: string }[]>(`SELECT unnest(enum_range(NULL::"ApiKeyPermission"))::text AS value`);
    expect(rows.map((r) => r.value)).toEqual([...ALL_PERMISSIONS]);
  });
});

describe("the schemas of restricted keys", () => {
  it("are built once per role and distinct permissions that matter to it: BILLING_READ changes nothing in a sub-account's", () => {
    const selector = createSchemaSelector(schema);
    const sub = (permissions: Permission[]) => selector.forAudience({ role: "SUB_ACCOUNT", permissions: new Set(permissions) });
    const manager = (permissions: Permission[]) => selector.forAudience({ role: "MANAGER", permissions: new Set(permissions) });
    expect(sub(["ACCOUNTS_READ", "USAGE_WRITE"])).toBe(sub(["USAGE_WRITE", "ACCOUNTS_READ"]));
    expect(sub(["ACCOUNTS_READ", "BILLING_READ"])).toBe(sub(["ACCOUNTS_READ"]));
    expect(manager(["ACCOUNTS_READ", "BILLING_READ"])).not.toBe(manager(["ACCOUNTS_READ"]));
    expect(manager(["ACCOUNTS_READ"])).not.toBe(sub(["ACCOUNTS_READ"]));
    // Unrestricted: the role's own schema.
    expect(selector.forAudience({ role: "MANAGER", permissions: null })).toBe(selector.forRole("MANAGER"));
    expect(printSchema(manager([...ALL_PERMISSIONS]))).toBe(printSchema(selector.forRole("MANAGER")));
  });
});
