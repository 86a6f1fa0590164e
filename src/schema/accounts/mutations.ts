import * as E from "../../domain/errors.js";
import type { Account } from "../../generated/prisma/client.js";
import * as accounts from "../../services/accounts.js";
import { ApiKeyRef } from "../apiKeys/ApiKey.js";
import { builder } from "../builder.js";
import { decodeIdOrThrow } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { ManagerRef } from "./Manager.js";
import { SubAccountRef } from "./SubAccount.js";

const managerId = (id: string) => decodeIdOrThrow(id, ["Manager"], "The manager").id;
const subAccountId = (id: string) => decodeIdOrThrow(id, ["SubAccount"], "The sub-account").id;

// ---------------------------------------------------------------- managers

const CreateManagerInput = builder.inputType("CreateManagerInput", {
  description: "A new manager (operators only).",
  fields: (t) => ({
    email: t.field({ type: "EmailAddress", required: true, description: "The manager's email; unique among managers." }),
    organizationName: t.string({ description: "Organization name, up to 200 characters." }),
    subAccountLimit: t.int({ description: "How many open sub-accounts it may have (default 1000)." }),
    apiKeyName: t.string({ description: 'Name of its first API key (default "Default key").' }),
  }),
});

const CreateManagerSuccess = builder.objectRef<{ manager: Account; apiKey: object; secret: string }>("CreateManagerSuccess").implement({
  description: "The new manager and its first API key.",
  fields: (t) => ({
    manager: t.field({ type: ManagerRef, description: "The new manager.", resolve: (r) => r.manager }),
    apiKey: t.field({ type: ApiKeyRef, description: "Its first API key.", resolve: (r) => r.apiKey as never }),
    secret: t.exposeString("secret", { description: "The key's secret. Shown this once; only a hash is kept." }),
  }),
});

defineMutation("createManager", {
  description: "Create a manager with its first API key. Operators only.",
  action: "manager:create",
  input: CreateManagerInput,
  result: sharedResult("CreateManager", CreateManagerSuccess, [E.ValidationError, E.ConflictError, E.ForbiddenError], "The result of createManager."),
  resolve: (input, ctx) => accounts.createManager(ctx.viewer, input),
});

const UpdateManagerInput = builder.inputType("UpdateManagerInput", {
  description: "Changes to a manager; absent fields stay as they are.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The manager's global id." }),
    email: t.field({ type: "EmailAddress", description: "New email." }),
    organizationName: t.string({ description: "New organization name; null clears it." }),
    subAccountLimit: t.int({ description: "New sub-account limit (operators only).", extensions: { action: "manager:setSubAccountLimit" } }),
    autoDeleteClosedSubAccounts: t.boolean({ description: "Purge closed sub-accounts 30 days after closing." }),
  }),
});

const UpdateManagerSuccess = builder.objectRef<Account>("UpdateManagerSuccess").implement({
  description: "The manager after the update.",
  fields: (t) => ({ manager: t.field({ type: ManagerRef, description: "The updated manager.", resolve: (m) => m }) }),
});

defineMutation("updateManager", {
  action: "manager:update",
  description: "Change a manager: the operator, or the manager itself (subAccountLimit: operators only).",
  input: UpdateManagerInput,
  result: sharedResult(
    "UpdateManager",
    UpdateManagerSuccess,
    [E.ValidationError, E.ConflictError, E.ForbiddenError, E.NotFoundError],
    "The result of updateManager.",
  ),
  resolve: (input, ctx) => accounts.updateManager(ctx.viewer, { ...input, id: managerId(String(input.id)) }),
});

const ManagerStatusInput = builder.inputType("ManagerStatusInput", {
  description: "The manager whose status changes.",
  fields: (t) => ({ id: t.id({ required: true, description: "The manager's global id." }) }),
});

const ManagerStatusSuccess = builder.objectRef<Account>("ManagerStatusSuccess").implement({
  description: "The manager after the status change (or unchanged, when it already had that status).",
  fields: (t) => ({ manager: t.field({ type: ManagerRef, description: "The manager.", resolve: (m) => m }) }),
});

const ManagerStatusResult = sharedResult(
  "ManagerStatus",
  ManagerStatusSuccess,
  [E.NotFoundError, E.ForbiddenError, E.InvalidStateTransitionError],
  "The result of suspendManager and reactivateManager.",
);

for (const [name, action, description] of [
  ["suspendManager", "suspend", "Suspend a manager: it and its sub-accounts can read but incur no usage. Operators only; idempotent."],
  ["reactivateManager", "reactivate", "Reactivate a suspended manager. Operators only; idempotent."],
] as const) {
  defineMutation(name, {
    description,
    action: "manager:changeStatus",
    input: ManagerStatusInput,
    result: ManagerStatusResult,
    resolve: (input, ctx) => accounts.changeManagerStatus(ctx.viewer, managerId(String(input.id)), action),
  });
}

// ------------------------------------------------------------ sub-accounts

const CreateSubAccountInput = builder.inputType("CreateSubAccountInput", {
  description: "A new sub-account under the calling manager.",
  fields: (t) => ({
    email: t.field({
      type: "EmailAddress",
      required: true,
      description: "The sub-account's email; unique within the manager's tree (its siblings' and the manager's differ).",
    }),
    organizationName: t.string({ description: "Organization name, up to 200 characters." }),
    rollupBilling: t.boolean({ defaultValue: false, description: "Debit its charges from the manager's balance. Fixed at creation." }),
    allowCustomPricing: t.boolean({ defaultValue: false, description: "Let an operator give it a custom rate card." }),
    creditLimit: t.string({ description: 'Cap on its total spent, as a decimal string, e.g. "100.00"; absent: no cap.' }),
    idempotencyKey: t.string({ description: "Makes retries safe: the same key and input return the first result." }),
  }),
});

const CreateSubAccountSuccess = builder.objectRef<Account>("CreateSubAccountSuccess").implement({
  description: "The new sub-account.",
  fields: (t) => ({ subAccount: t.field({ type: SubAccountRef, description: "The new sub-account.", resolve: (s) => s }) }),
});

defineMutation("createSubAccount", {
  action: "subAccount:create",
  description: "Create a sub-account under the calling manager. Managers only.",
  input: CreateSubAccountInput,
  result: sharedResult(
    "CreateSubAccount",
    CreateSubAccountSuccess,
    // NotFoundError: a replay whose sub-account has since been purged.
    [E.ValidationError, E.ConflictError, E.LimitExceededError, E.ForbiddenError, E.AccountNotActiveError, E.IdempotencyConflictError, E.NotFoundError],
    "The result of createSubAccount.",
  ),
  resolve: (input, ctx) => accounts.createSubAccount(ctx.viewer, input),
});

const UpdateSubAccountInput = builder.inputType("UpdateSubAccountInput", {
  description: "Changes to a sub-account; absent fields stay as they are. A sub-account may change only its own email and organization name.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The sub-account's global id." }),
    email: t.field({ type: "EmailAddress", description: "New email." }),
    organizationName: t.string({ description: "New organization name; null clears it." }),
    allowCustomPricing: t.boolean({
      description: "Use an operator-set custom rate card (managers and operators).",
      extensions: { action: "subAccount:updateSettings" },
    }),
    creditLimit: t.string({
      description: "New credit limit as a decimal string; not below its total spent (managers and operators).",
      extensions: { action: "subAccount:updateSettings" },
    }),
    clearCreditLimit: t.boolean({ description: "Remove the credit limit (managers and operators).", extensions: { action: "subAccount:updateSettings" } }),
  }),
});

const UpdateSubAccountSuccess = builder.objectRef<Account>("UpdateSubAccountSuccess").implement({
  description: "The sub-account after the update.",
  fields: (t) => ({ subAccount: t.field({ type: SubAccountRef, description: "The updated sub-account.", resolve: (s) => s }) }),
});

defineMutation("updateSubAccount", {
  action: "subAccount:updateProfile",
  description: "Change a sub-account: its manager or an operator; the sub-account itself for its email and organization name.",
  input: UpdateSubAccountInput,
  result: sharedResult(
    "UpdateSubAccount",
    UpdateSubAccountSuccess,
    [E.ValidationError, E.ConflictError, E.NotFoundError, E.ForbiddenError, E.InvalidStateTransitionError],
    "The result of updateSubAccount.",
  ),
  resolve: (input, ctx) => accounts.updateSubAccount(ctx.viewer, { ...input, id: subAccountId(String(input.id)) }),
});

const SubAccountStatusInput = builder.inputType("SubAccountStatusInput", {
  description: "The sub-account whose status changes.",
  fields: (t) => ({ id: t.id({ required: true, description: "The sub-account's global id." }) }),
});

const SubAccountStatusSuccess = builder.objectRef<Account>("SubAccountStatusSuccess").implement({
  description: "The sub-account after the status change (or unchanged, when it already had that status).",
  fields: (t) => ({ subAccount: t.field({ type: SubAccountRef, description: "The sub-account.", resolve: (s) => s }) }),
});

const SubAccountStatusResult = sharedResult(
  "SubAccountStatus",
  SubAccountStatusSuccess,
  [E.NotFoundError, E.ForbiddenError, E.InvalidStateTransitionError],
  "The result of suspendSubAccount, reactivateSubAccount and closeSubAccount.",
);

for (const [name, action, description] of [
  ["suspendSubAccount", "suspend", "Suspend a sub-account: it can read but incur no usage. Its manager or an operator; idempotent."],
  ["reactivateSubAccount", "reactivate", "Reactivate a suspended sub-account. Its manager or an operator; idempotent."],
  ["closeSubAccount", "close", "Close a sub-account for good: revokes its keys and releases its numbers. Its manager or an operator. CLOSED is terminal."],
] as const) {
  defineMutation(name, {
    description,
    action: "subAccount:changeStatus",
    input: SubAccountStatusInput,
    result: SubAccountStatusResult,
    resolve: (input, ctx) => accounts.changeSubAccountStatus(ctx.viewer, subAccountId(String(input.id)), action),
  });
}
