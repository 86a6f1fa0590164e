// The authorization table (src/auth/actions.ts) is the one place that says
// who may change what. These tests walk it: every mutation names an action,
// each role's schema holds exactly the mutations and input fields its
// actions allow, and behind the schema the services refuse every other role
// themselves, before they run any SQL (so the refusal says nothing about the
// rows named).
import { type GraphQLSchema, isInputObjectType } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { ACTIONS, type Action, type Role, roleMayPerform } from "../../src/auth/actions.js";
import { authenticate } from "../../src/auth/authenticate.js";
import type { Viewer } from "../../src/auth/viewer.js";
import { ForbiddenError } from "../../src/domain/errors.js";
import { parseGlobalId } from "../../src/schema/globalIds.js";
import { schema } from "../../src/schema/index.js";
import { buildRoleSchemas, ROLES } from "../../src/schema/roleSchemas.js";
import * as accounts from "../../src/services/accounts.js";
import * as apiKeys from "../../src/services/apiKeys.js";
import * as billing from "../../src/services/billing.js";
import * as phoneNumbers from "../../src/services/phoneNumbers.js";
import * as pricing from "../../src/services/pricing.js";
import * as usageTriggers from "../../src/services/usageTriggers.js";
import * as webhooks from "../../src/services/webhooks.js";
import { countStatements, OPERATOR_TOKEN } from "../helpers/app.js";
import { createWorld, type World } from "../helpers/factories.js";

const roleSchemas = buildRoleSchemas(schema);
const mutations = Object.values(schema.getMutationType()!.getFields());
const actionOf = (extensions: Record<string, unknown> | null | undefined) => extensions?.action as Action | undefined;

describe("the authorization table", () => {
  it("every mutation names an action of the table", () => {
    const without = mutations.filter((field) => !actionOf(field.extensions) || !(actionOf(field.extensions)! in ACTIONS)).map((f) => f.name);
    expect(without).toEqual([]);
  });

  it.each(ROLES)("the %s schema holds exactly the mutations its role may perform", (role) => {
    const served = Object.keys(roleSchemas[role].getMutationType()?.getFields() ?? {}).sort();
    const allowed = mutations
      .filter((field) => roleMayPerform(role, actionOf(field.extensions)!))
      .map((f) => f.name)
      .sort();
    expect(served).toEqual(allowed);
  });

  it.each(ROLES)("the %s schema holds an input field named for an action only when its role may perform it", (role) => {
    const restricted = restrictedInputFields(schema);
    expect(restricted.length).toBeGreaterThan(0);
    for (const { type, field, action } of restricted) {
      const served = roleSchemas[role].getType(type);
      const present = !!served && isInputObjectType(served) && field in served.getFields();
      // A type the role's schema has at all must have the field exactly when the action allows it.
      if (served) expect(present, `${role}: ${type}.${field} (${action})`).toBe(roleMayPerform(role, action));
    }
  });

  it("a sub-account's schema has no operation it cannot use, nor a type it can never receive", () => {
    const sub = roleSchemas.SUB_ACCOUNT;
    const names = Object.keys(sub.getMutationType()!.getFields());
    for (const name of [
      "createSubAccount",
      "suspendSubAccount",
      "reactivateSubAccount",
      "closeSubAccount",
      "transferPhoneNumber",
      "updateManager",
      "transferBalance",
    ]) {
      expect(names).not.toContain(name);
    }
    for (const type of ["Manager", "ManagerConnection", "SubAccountConnection", "PriceList", "LedgerEntry", "UpdateManagerInput"]) {
      expect(sub.getType(type), type).toBeUndefined();
    }
  });
});

function restrictedInputFields(full: GraphQLSchema): { type: string; field: string; action: Action }[] {
  const found: { type: string; field: string; action: Action }[] = [];
  for (const type of Object.values(full.getTypeMap())) {
    if (!isInputObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const action = actionOf(field.extensions) ?? actionOf((field.extensions?.pothosOptions as { extensions?: Record<string, unknown> })?.extensions);
      if (action) found.push({ type: type.name, field: field.name, action });
    }
  }
  return found;
}

describe("behind the schema, each service refuses a role the table leaves out, before any SQL", () => {
  let world: World;
  const viewers = {} as Record<Role, Viewer>;

  beforeAll(async () => {
    world = await createWorld();
    viewers.OPERATOR = (await authenticate(`Bearer ${OPERATOR_TOKEN}`, OPERATOR_TOKEN)).viewer;
    viewers.MANAGER = (await authenticate(`Bearer ${world.manager.token}`, OPERATOR_TOKEN)).viewer;
    viewers.SUB_ACCOUNT = (await authenticate(`Bearer ${world.sub.token}`, OPERATOR_TOKEN)).viewer;
  });

  /** Row ids as the services take them (the schema decodes global ids before calling them). */
  const rowId = (globalId: string) => parseGlobalId(globalId)!.id;
  const managerRef = () => ({ id: rowId(world.manager.id), kind: "MANAGER" as const });
  const subRef = () => ({ id: rowId(world.sub.id), kind: "SUB_ACCOUNT" as const });

  // Each action's service call, naming rows of the caller's own world (or none): only the role decides.
  const calls: Record<Action, (viewer: Viewer) => Promise<unknown>> = {
    "manager:create": (v) => accounts.createManager(v, { email: "refused@example.com" }),
    "manager:update": (v) => accounts.updateManager(v, { id: managerRef().id, organizationName: "Refused" }),
    "manager:setSubAccountLimit": (v) => accounts.updateManager(v, { id: managerRef().id, subAccountLimit: 5 }),
    "manager:changeStatus": (v) => accounts.changeManagerStatus(v, managerRef().id, "suspend"),
    "subAccount:create": (v) => accounts.createSubAccount(v, { email: "refused@example.com" }),
    "subAccount:updateProfile": (v) => accounts.updateSubAccount(v, { id: subRef().id, organizationName: "Refused" }),
    "subAccount:updateSettings": (v) => accounts.updateSubAccount(v, { id: subRef().id, creditLimit: "1" }),
    "subAccount:changeStatus": (v) => accounts.changeSubAccountStatus(v, subRef().id, "suspend"),
    "apiKey:create": (v) => apiKeys.createApiKey(v, subRef(), "refused"),
    "apiKey:revoke": (v) => apiKeys.revokeApiKey(v, rowId(world.sub.keyId)),
    "apiKey:roll": (v) => apiKeys.rollApiKey(v, rowId(world.sub.keyId), 0),
    "phoneNumber:provision": (v) => phoneNumbers.provisionPhoneNumber(v, { account: subRef(), number: "+15005550006" }),
    "phoneNumber:transfer": (v) => phoneNumbers.transferPhoneNumber(v, subRef().id, { id: rowId(world.sibling.id), kind: "SUB_ACCOUNT" }),
    "phoneNumber:release": (v) => phoneNumbers.releasePhoneNumber(v, subRef().id),
    "pricing:setPlatform": (v) => pricing.setPlatformPricing(v, []),
    "pricing:setAccount": (v) => pricing.setAccountPricing(v, subRef(), []),
    "balance:topUp": (v) => billing.topUpBalance(v, subRef(), { amount: "1", idempotencyKey: "refused" }),
    "balance:transfer": (v) => billing.transferBalance(v, { from: managerRef(), to: subRef(), amount: "1", idempotencyKey: "refused" }),
    "usage:record": (v) => billing.recordUsage(v, subRef(), { product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: "refused" }),
    "webhookEndpoint:create": (v) => webhooks.createWebhookEndpoint(v, subRef(), { url: "https://hooks.example.com/refused" }),
    "webhookEndpoint:update": (v) => webhooks.updateWebhookEndpoint(v, subRef().id, { enabled: false }),
    "webhookEndpoint:delete": (v) => webhooks.deleteWebhookEndpoint(v, subRef().id),
    "webhookEvent:redeliver": (v) => webhooks.redeliverWebhookEvent(v, subRef().id, subRef().id),
    "usageTrigger:create": (v) => usageTriggers.createUsageTrigger(v, subRef(), { condition: "SPEND_REACHES", threshold: "1" }),
    "usageTrigger:suspend": (v) => usageTriggers.createUsageTrigger(v, subRef(), { condition: "SPEND_REACHES", threshold: "1", action: "SUSPEND" }),
    "usageTrigger:delete": (v) => usageTriggers.deleteUsageTrigger(v, subRef().id),
  };

  const refusals = (Object.keys(ACTIONS) as Action[]).flatMap((action) =>
    (["OPERATOR", "MANAGER", "SUB_ACCOUNT"] as const).filter((role) => !roleMayPerform(role, action)).map((role) => [action, role] as const),
  );

  it("the table leaves some role out of most changes", () => {
    expect(refusals.length).toBeGreaterThan(15);
  });

  it.each(refusals)("%s by a %s is a ForbiddenError naming who may, with no SQL", async (action, role) => {
    const { result, statements } = await countStatements(() =>
      calls[action](viewers[role]).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect(result).toBeInstanceOf(ForbiddenError);
    // It names who may (for setSubAccountLimit by a sub-account, the update itself is refused first).
    const refusedFor = (Object.keys(ACTIONS) as Action[]).filter((a) => !roleMayPerform(role, a)).map((a) => ACTIONS[a].does);
    expect(refusedFor.map((does) => `may ${does}`)).toContain((result as ForbiddenError).message.replace(/^Only (an operator|a manager)( or a manager)? /, ""));
    expect(statements).toBe(0);
  });
});
