import * as E from "../../domain/errors.js";
import * as usageTriggers from "../../services/usageTriggers.js";
import { ProductEnum } from "../billing/enums.js";
import { builder } from "../builder.js";
import { decodeAccountRef, decodeIdOrThrow } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { UsageTriggerActionEnum, UsageTriggerConditionEnum, UsageTriggerPeriodEnum, UsageTriggerRef } from "./UsageTrigger.js";

const CreateUsageTriggerInput = builder.inputType("CreateUsageTriggerInput", {
  description: "A new usage trigger on an account.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the account (Manager or SubAccount) to watch." }),
    condition: t.field({ type: UsageTriggerConditionEnum, required: true, description: "What to watch." }),
    threshold: t.string({
      required: true,
      description: 'The spend to reach or the balance to fall to: a plain positive decimal with at most 6 fractional digits, e.g. "50.00".',
    }),
    product: t.field({ type: ProductEnum, required: false, description: "SPEND_REACHES on this product only; null: every product." }),
    period: t.field({
      type: UsageTriggerPeriodEnum,
      required: false,
      defaultValue: "MONTHLY",
      description: "The period SPEND_REACHES counts over; BALANCE_FALLS_TO triggers are ALL_TIME whatever is sent.",
    }),
    // In every role's schema: a sub-account asking for SUSPEND gets a typed ForbiddenError from the service.
    action: t.field({
      type: UsageTriggerActionEnum,
      required: false,
      defaultValue: "NOTIFY",
      description: "What it does when it fires. SUSPEND: managers and operators, on sub-accounts.",
    }),
  }),
});

const CreateUsageTriggerSuccess = builder.objectRef<{ trigger: object }>("CreateUsageTriggerSuccess").implement({
  description: "The new trigger.",
  fields: (t) => ({
    trigger: t.field({ type: UsageTriggerRef, permission: "WEBHOOKS_WRITE", description: "The new trigger.", resolve: (r) => r.trigger as never }),
  }),
});

defineMutation("createUsageTrigger", {
  action: "usageTrigger:create",
  description:
    "Create a usage trigger on an account the caller reaches (a sub-account: NOTIFY triggers on itself). At most 25 per account; none on a closed account.",
  input: CreateUsageTriggerInput,
  result: sharedResult(
    "CreateUsageTrigger",
    CreateUsageTriggerSuccess,
    [E.NotFoundError, E.ForbiddenError, E.ValidationError, E.LimitExceededError],
    "The result of createUsageTrigger.",
  ),
  resolve: async (input, ctx) => ({
    trigger: await usageTriggers.createUsageTrigger(ctx.viewer, decodeAccountRef(String(input.accountId)), {
      condition: input.condition,
      threshold: input.threshold,
      product: input.product,
      period: input.period,
      action: input.action,
    }),
  }),
});

const DeleteUsageTriggerInput = builder.inputType("DeleteUsageTriggerInput", {
  description: "The trigger to delete.",
  fields: (t) => ({ id: t.id({ required: true, description: "The trigger's global id." }) }),
});

const DeleteUsageTriggerSuccess = builder.objectRef<{ deletedId: string }>("DeleteUsageTriggerSuccess").implement({
  description: "The trigger is gone.",
  fields: (t) => ({ deletedId: t.exposeID("deletedId", { description: "The deleted trigger's global id." }) }),
});

defineMutation("deleteUsageTrigger", {
  action: "usageTrigger:delete",
  description: "Delete a usage trigger the caller reaches. A sub-account may not delete a SUSPEND trigger (its manager's).",
  input: DeleteUsageTriggerInput,
  result: sharedResult("DeleteUsageTrigger", DeleteUsageTriggerSuccess, [E.NotFoundError, E.ForbiddenError], "The result of deleteUsageTrigger."),
  resolve: (input, ctx) => usageTriggers.deleteUsageTrigger(ctx.viewer, decodeIdOrThrow(String(input.id), ["UsageTrigger"], "The usage trigger").id),
});
