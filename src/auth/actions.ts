import { ForbiddenError } from "../domain/errors.js";
import { type AccountViewer, holds, type OperatorViewer, type Viewer } from "./viewer.js";

// Authorization as data: every change the API can make is a named action,
// with the roles that may perform it and the API key permission it will
// need (DOMAIN.md "Least-privilege keys"). Three things read this table and
// nothing else decides who may act:
// - each mutation (and each input field that only some roles may set)
//   names its action, so a role's schema leaves out what it may not use
//   (schema/roleSchemas.ts) and scope-auth refuses it at run time;
// - the services call `assertMayPerform` before they touch a row, a second
//   line behind the schema; it also checks the permission of a restricted
//   key, whose schema leaves out the actions its permissions do not cover;
// - tests walk the table (test/security/actions.test.ts).
//
// Which rows an action may touch is the row filters' business
// (auth/rowFilters.ts): an action allowed to a role still only reaches the
// rows that role reaches.

export type Role = Viewer["role"];

/**
 * The permissions an API key may be restricted to (the contract's
 * ApiKeyPermission), in its order. Writes are named by the actions below;
 * what each read permission covers is declared on the schema's fields and
 * types (`permission`, schema/permissionsPlugin.ts).
 */
export const PERMISSIONS = [
  "ACCOUNTS_READ",
  "ACCOUNTS_WRITE",
  "KEYS_WRITE",
  "NUMBERS_WRITE",
  "BILLING_READ",
  "BILLING_WRITE",
  "USAGE_WRITE",
  "EVENTS_READ",
  "WEBHOOKS_WRITE",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export interface ActionRule {
  /** What it does, as it reads after "may": "create managers". */
  does: string;
  roles: readonly Role[];
  /** The permission a restricted key needs for it (the contract's ApiKeyPermission comments). */
  permission: Permission;
  /** What else it needs: an endpoint receives events, so making one reads them (EVENTS_READ). */
  alsoNeeds?: readonly Permission[];
}

const OPERATOR = ["OPERATOR"] as const;
const MANAGER = ["MANAGER"] as const;
/** Operators and managers: what DOMAIN.md keeps from sub-accounts. */
const PRIVILEGED = ["OPERATOR", "MANAGER"] as const;
const EVERYONE = ["OPERATOR", "MANAGER", "SUB_ACCOUNT"] as const;

export const ACTIONS = {
  "manager:create": { does: "create managers", roles: OPERATOR, permission: "ACCOUNTS_WRITE" },
  "manager:update": { does: "update a manager", roles: PRIVILEGED, permission: "ACCOUNTS_WRITE" },
  "manager:setSubAccountLimit": { does: "change a manager's subAccountLimit", roles: OPERATOR, permission: "ACCOUNTS_WRITE" },
  "manager:changeStatus": { does: "suspend or reactivate managers", roles: OPERATOR, permission: "ACCOUNTS_WRITE" },
  "subAccount:create": { does: "create sub-accounts", roles: MANAGER, permission: "ACCOUNTS_WRITE" },
  "subAccount:updateProfile": { does: "change a sub-account's email and organization name", roles: EVERYONE, permission: "ACCOUNTS_WRITE" },
  "subAccount:updateSettings": {
    does: "change a sub-account's credit limit or custom pricing",
    roles: PRIVILEGED,
    permission: "ACCOUNTS_WRITE",
  },
  "subAccount:changeStatus": { does: "suspend, reactivate or close sub-accounts", roles: PRIVILEGED, permission: "ACCOUNTS_WRITE" },
  "apiKey:create": { does: "create API keys", roles: EVERYONE, permission: "KEYS_WRITE" },
  "apiKey:revoke": { does: "revoke API keys", roles: EVERYONE, permission: "KEYS_WRITE" },
  "apiKey:roll": { does: "roll API keys", roles: EVERYONE, permission: "KEYS_WRITE" },
  "phoneNumber:provision": { does: "provision phone numbers", roles: EVERYONE, permission: "NUMBERS_WRITE" },
  "phoneNumber:transfer": { does: "transfer phone numbers", roles: PRIVILEGED, permission: "NUMBERS_WRITE" },
  "phoneNumber:release": { does: "release phone numbers", roles: EVERYONE, permission: "NUMBERS_WRITE" },
  "pricing:setPlatform": { does: "set the platform's rates", roles: OPERATOR, permission: "BILLING_WRITE" },
  "pricing:setAccount": { does: "set an account's rates", roles: OPERATOR, permission: "BILLING_WRITE" },
  "balance:topUp": { does: "top up balances", roles: EVERYONE, permission: "BILLING_WRITE" },
  "balance:transfer": { does: "transfer funds between balances", roles: PRIVILEGED, permission: "BILLING_WRITE" },
  "usage:record": { does: "record usage", roles: EVERYONE, permission: "USAGE_WRITE" },
  "webhookEndpoint:create": { does: "create webhook endpoints", roles: EVERYONE, permission: "WEBHOOKS_WRITE", alsoNeeds: ["EVENTS_READ"] },
  "webhookEndpoint:update": { does: "change webhook endpoints", roles: EVERYONE, permission: "WEBHOOKS_WRITE", alsoNeeds: ["EVENTS_READ"] },
  "webhookEndpoint:delete": { does: "delete webhook endpoints", roles: EVERYONE, permission: "WEBHOOKS_WRITE" },
  "webhookEvent:redeliver": { does: "redeliver webhook events", roles: EVERYONE, permission: "WEBHOOKS_WRITE", alsoNeeds: ["EVENTS_READ"] },
  "usageTrigger:create": { does: "create usage triggers", roles: EVERYONE, permission: "WEBHOOKS_WRITE" },
  /** SUSPEND triggers: managers (and operators) on sub-accounts only (DOMAIN.md "Usage triggers"). */
  // Suspending is a change of the account's status: a restricted key needs ACCOUNTS_WRITE for it too.
  "usageTrigger:suspend": { does: "create usage triggers that suspend", roles: PRIVILEGED, permission: "WEBHOOKS_WRITE", alsoNeeds: ["ACCOUNTS_WRITE"] },
  "usageTrigger:delete": { does: "delete usage triggers", roles: EVERYONE, permission: "WEBHOOKS_WRITE" },
} as const satisfies Record<string, ActionRule>;

export type Action = keyof typeof ACTIONS;

/** Every permission a restricted key needs for an action. */
export function permissionsOfAction(action: Action): readonly Permission[] {
  const rule: ActionRule = ACTIONS[action];
  return [rule.permission, ...(rule.alsoNeeds ?? [])];
}

/** Whether a role may perform the action at all (its rows are the row filters' business). */
export function roleMayPerform(role: Role, action: Action): boolean {
  return (ACTIONS[action].roles as readonly Role[]).includes(role);
}

const ROLE_NAMES: Record<Role, string> = { OPERATOR: "an operator", MANAGER: "a manager", SUB_ACCOUNT: "a sub-account" };

/** The viewers of the roles an action allows (so a manager-only action leaves an account viewer). */
type ViewerAllowed<A extends Action> = (typeof ACTIONS)[A]["roles"][number] extends infer R ? (R extends "OPERATOR" ? OperatorViewer : AccountViewer) : never;

/** Throws the contract's ForbiddenError unless the viewer's role may perform the action and its key holds the action's permission. */
export function assertMayPerform<A extends Action>(viewer: Viewer, action: A): asserts viewer is ViewerAllowed<A> {
  const rule = ACTIONS[action];
  if (!roleMayPerform(viewer.role, action)) {
    const who = rule.roles.map((role) => ROLE_NAMES[role]).join(" or ");
    throw new ForbiddenError(`Only ${who} may ${rule.does}`);
  }
  const lacking = permissionsOfAction(action).find((permission) => !holds(viewer, permission));
  if (lacking) throw new ForbiddenError(missingPermissionMessage(lacking));
}

/** What a restricted key is told when it lacks a permission (the same words in the schema's FORBIDDEN errors). */
export const missingPermissionMessage = (permission: Permission) => `This API key lacks the ${permission} permission`;

/** The Pothos auth scopes (schema/builder.ts) that grant exactly the action's roles. */
export function authScopesOf(action: Action): { operator?: true; manager?: true; subAccount?: true } {
  const roles = ACTIONS[action].roles as readonly Role[];
  return {
    ...(roles.includes("OPERATOR") ? { operator: true } : {}),
    ...(roles.includes("MANAGER") ? { manager: true } : {}),
    ...(roles.includes("SUB_ACCOUNT") ? { subAccount: true } : {}),
  };
}
