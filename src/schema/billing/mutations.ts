import * as E from "../../domain/errors.js";
import type { PriceList } from "../../domain/pricing.js";
import type { Account, LedgerEntry, UsageRecord } from "../../generated/prisma/client.js";
import * as billing from "../../services/billing.js";
import * as pricing from "../../services/pricing.js";
import type { ChargedAccount } from "../../services/usageCharges.js";
import { AccountRef } from "../accounts/Account.js";
import { BILLING_DATA, builder } from "../builder.js";
import { decodeAccountRef } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { BalanceRef, balanceOf } from "./Balance.js";
import { ProductEnum } from "./enums.js";
import { LedgerEntryRef } from "./LedgerEntry.js";
import { PriceListRef } from "./PriceList.js";
import { UsageRecordRef } from "./UsageRecord.js";

type AccountWithManager = Account & { manager: Account | null };

// ----------------------------------------------------------------- pricing

const RateInput = builder.inputType("RateInput", {
  description: "The price of one product.",
  fields: (t) => ({
    product: t.field({ type: ProductEnum, required: true, description: "The product." }),
    unitPrice: t.string({
      required: true,
      description: 'Price per unit as a plain decimal string with at most 6 fractional digits, e.g. "0.0079"; "0" makes the product free.',
    }),
  }),
});

const SetPricingInput = builder.inputType("SetPricingInput", {
  description: "An account's new rate card; it replaces the old one as a whole.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the manager or sub-account (with allowCustomPricing on)." }),
    rates: t.field({
      type: [RateInput],
      required: true,
      description: "The card: each product at most once. Products it leaves out fall back to the next level; an empty list removes the card.",
    }),
  }),
});

const SetPricingSuccess = builder.objectRef<{ account: Account; pricing: PriceList }>("SetPricingSuccess").implement({
  description: "The account and its effective prices after the change.",
  fields: (t) => ({
    account: t.field({ type: AccountRef, description: "The account.", resolve: (r) => r.account as never }),
    pricing: t.field({ type: PriceListRef, permission: "BILLING_READ", description: "Its effective prices.", resolve: (r) => r.pricing }),
  }),
});

defineMutation("setAccountPricing", {
  action: "pricing:setAccount",
  description:
    "Replace an account's own rate card: a manager's negotiated rates, or a sub-account's custom rates (only with allowCustomPricing on, else ForbiddenError). Operators only.",
  input: SetPricingInput,
  result: sharedResult("SetPricing", SetPricingSuccess, [E.ValidationError, E.NotFoundError, E.ForbiddenError], "The result of setAccountPricing."),
  resolve: (input, ctx) => pricing.setAccountPricing(ctx.viewer, decodeAccountRef(String(input.accountId)), input.rates),
});

const SetPlatformPricingInput = builder.inputType("SetPlatformPricingInput", {
  description: "New platform default rates.",
  fields: (t) => ({
    rates: t.field({
      type: [RateInput],
      required: true,
      description: "At least one rate, each product at most once; products left out keep their current default.",
    }),
  }),
});

const SetPlatformPricingSuccess = builder.objectRef<PriceList>("SetPlatformPricingSuccess").implement({
  description: "The platform's default prices after the change.",
  fields: (t) => ({ pricing: t.field({ type: PriceListRef, permission: "BILLING_READ", description: "The platform's default prices.", resolve: (p) => p }) }),
});

defineMutation("setPlatformPricing", {
  action: "pricing:setPlatform",
  description: "Change the platform's default rates, which apply wherever no negotiated or custom rate does. Operators only.",
  input: SetPlatformPricingInput,
  result: sharedResult("SetPlatformPricing", SetPlatformPricingSuccess, [E.ValidationError, E.ForbiddenError], "The result of setPlatformPricing."),
  resolve: (input, ctx) => pricing.setPlatformPricing(ctx.viewer, input.rates),
});

// ---------------------------------------------------------------- balances

const TopUpBalanceInput = builder.inputType("TopUpBalanceInput", {
  description: "Funds to add to an account's own balance.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the manager, or of a sub-account without rollup billing." }),
    amount: t.string({ required: true, description: 'Amount as a plain positive decimal string with at most 6 fractional digits, e.g. "25.00".' }),
    idempotencyKey: t.string({ required: true, description: "Makes retries safe: the same key and amount return the first result and add funds once." }),
  }),
});

const TopUpBalanceSuccess = builder.objectRef<{ account: AccountWithManager; entry: LedgerEntry }>("TopUpBalanceSuccess").implement({
  description: "The balance after the top-up.",
  fields: (t) => ({
    balance: t.field({ type: BalanceRef, description: "The account's balance.", resolve: (r) => balanceOf(r.account) }),
    entry: t.field({
      type: LedgerEntryRef,
      ...BILLING_DATA,
      nullable: true,
      description: "The TOP_UP ledger entry. Managers and operators only: null (with FORBIDDEN) for a sub-account caller.",
      resolve: (r) => r.entry,
    }),
  }),
});

defineMutation("topUpBalance", {
  action: "balance:topUp",
  description:
    "Add funds to an own balance: the account itself, its manager (a payment, not a debit of the manager's balance) or an operator. A rollup sub-account has none (ValidationError). At most 5 successful top-ups per account in 24 hours (RateLimitedError); replays do not count.",
  input: TopUpBalanceInput,
  result: sharedResult(
    "TopUpBalance",
    TopUpBalanceSuccess,
    [E.ValidationError, E.NotFoundError, E.ForbiddenError, E.AccountNotActiveError, E.IdempotencyConflictError, E.RateLimitedError],
    "The result of topUpBalance.",
  ),
  resolve: (input, ctx) => billing.topUpBalance(ctx.viewer, decodeAccountRef(String(input.accountId)), input),
});

const TransferBalanceInput = builder.inputType("TransferBalanceInput", {
  description: "Funds to move between two own balances of one manager's tree.",
  fields: (t) => ({
    fromAccountId: t.id({ required: true, description: "Global id of the sending account (the manager or a sub-account without rollup billing)." }),
    toAccountId: t.id({ required: true, description: "Global id of the receiving account; must be ACTIVE." }),
    amount: t.string({ required: true, description: 'Amount as a plain positive decimal string with at most 6 fractional digits, e.g. "25.00".' }),
    idempotencyKey: t.string({ required: true, description: "Makes retries safe: the same key and input return the first result and move funds once." }),
  }),
});

const TransferBalanceSuccess = builder.objectRef<{ from: AccountWithManager; to: AccountWithManager }>("TransferBalanceSuccess").implement({
  description: "Both balances after the transfer.",
  fields: (t) => ({
    from: t.field({ type: BalanceRef, description: "The sending account's balance.", resolve: (r) => balanceOf(r.from) }),
    to: t.field({ type: BalanceRef, description: "The receiving account's balance.", resolve: (r) => balanceOf(r.to) }),
  }),
});

defineMutation("transferBalance", {
  action: "balance:transfer",
  description:
    "Move funds between the manager's balance and its sub-accounts' own balances, either way (or between two sub-accounts). Managers and operators; never below zero.",
  input: TransferBalanceInput,
  result: sharedResult(
    "TransferBalance",
    TransferBalanceSuccess,
    [E.ValidationError, E.NotFoundError, E.ForbiddenError, E.AccountNotActiveError, E.InsufficientFundsError, E.IdempotencyConflictError],
    "The result of transferBalance.",
  ),
  resolve: (input, ctx) =>
    billing.transferBalance(ctx.viewer, {
      from: decodeAccountRef(String(input.fromAccountId)),
      to: decodeAccountRef(String(input.toAccountId)),
      amount: input.amount,
      idempotencyKey: input.idempotencyKey,
    }),
});

// ------------------------------------------------------------------- usage

const RecordUsageInput = builder.inputType("RecordUsageInput", {
  description: "Usage to record and charge.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the account that used it." }),
    product: t.field({ type: ProductEnum, required: true, description: "What was used." }),
    quantity: t.int({ required: true, description: "How many units, 1 to 1,000,000." }),
    idempotencyKey: t.string({
      required: true,
      description: "Makes retries safe: the same key and input on the same account return the first record and charge once.",
    }),
    occurredAt: t.field({ type: "DateTime", description: "When the usage happened (within the last year); default: now." }),
  }),
});

const RecordUsageSuccess = builder.objectRef<{ usageRecord: UsageRecord; account: ChargedAccount }>("RecordUsageSuccess").implement({
  description: "The usage record and the account's balance after the charge.",
  fields: (t) => ({
    usageRecord: t.field({ type: UsageRecordRef, description: "The usage record.", resolve: (r) => r.usageRecord }),
    balance: t.field({ type: BalanceRef, description: "The account's balance after the charge.", resolve: (r) => balanceOf(r.account) }),
  }),
});

defineMutation("recordUsage", {
  action: "usage:record",
  description:
    "Record usage of an account and charge it at the account's effective rate: debits its balance (its manager's under rollup billing) and adds to its totalSpent, in one transaction. The account itself, its manager or an operator.",
  input: RecordUsageInput,
  result: sharedResult(
    "RecordUsage",
    RecordUsageSuccess,
    [
      E.ValidationError,
      E.NotFoundError,
      E.ForbiddenError,
      E.AccountNotActiveError,
      E.InsufficientFundsError,
      E.CreditLimitExceededError,
      E.IdempotencyConflictError,
    ],
    "The result of recordUsage.",
  ),
  resolve: (input, ctx) =>
    billing.recordUsage(ctx.viewer, decodeAccountRef(String(input.accountId)), {
      product: input.product,
      quantity: input.quantity,
      idempotencyKey: input.idempotencyKey,
      occurredAt: input.occurredAt,
    }),
});
