import * as E from "../../domain/errors.js";
import type { PhoneNumber } from "../../generated/prisma/client.js";
import * as phoneNumbers from "../../services/phoneNumbers.js";
import { builder } from "../builder.js";
import { decodeAccountRef, decodeIdOrThrow } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { PhoneNumberRef } from "./PhoneNumber.js";

const phoneNumberId = (id: string) => decodeIdOrThrow(id, ["PhoneNumber"], "The phone number").id;

// --------------------------------------------------------------- provision

const ProvisionPhoneNumberInput = builder.inputType("ProvisionPhoneNumberInput", {
  description: "A number to provision on an account.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the account (Manager or SubAccount) that will hold the number." }),
    number: t.field({ type: "E164", required: true, description: "The number, in strict E.164 form, e.g. +14155550100." }),
    friendlyName: t.string({ description: "A name to recognise the number by, up to 100 characters." }),
  }),
});

const ProvisionPhoneNumberSuccess = builder.objectRef<PhoneNumber>("ProvisionPhoneNumberSuccess").implement({
  description: "The provisioned number.",
  fields: (t) => ({ phoneNumber: t.field({ type: PhoneNumberRef, description: "The new, ACTIVE phone number.", resolve: (n) => n }) }),
});

defineMutation("provisionPhoneNumber", {
  action: "phoneNumber:provision",
  description:
    "Provision a phone number on an ACTIVE account and charge its first month: the account itself, its manager or an operator. A number already ACTIVE on any account is a ConflictError.",
  input: ProvisionPhoneNumberInput,
  result: sharedResult(
    "ProvisionPhoneNumber",
    ProvisionPhoneNumberSuccess,
    [E.ValidationError, E.ConflictError, E.NotFoundError, E.ForbiddenError, E.AccountNotActiveError, E.InsufficientFundsError, E.CreditLimitExceededError],
    "The result of provisionPhoneNumber.",
  ),
  resolve: (input, ctx) =>
    phoneNumbers.provisionPhoneNumber(ctx.viewer, {
      account: decodeAccountRef(String(input.accountId)),
      number: input.number,
      friendlyName: input.friendlyName,
    }),
});

// ---------------------------------------------------------------- transfer

const TransferPhoneNumberInput = builder.inputType("TransferPhoneNumberInput", {
  description: "The number to move and the account to move it to.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The phone number's global id." }),
    toAccountId: t.id({
      required: true,
      description: "Global id of the new owner: the number's manager or one of its sub-accounts; must be ACTIVE.",
    }),
  }),
});

const TransferPhoneNumberSuccess = builder.objectRef<PhoneNumber>("TransferPhoneNumberSuccess").implement({
  description: "The transferred number.",
  fields: (t) => ({
    phoneNumber: t.field({ type: PhoneNumberRef, description: "The number, same id and properties, on its new account.", resolve: (n) => n }),
  }),
});

defineMutation("transferPhoneNumber", {
  action: "phoneNumber:transfer",
  description:
    "Move an ACTIVE number within one manager's tree (manager <-> sub-account, sub-account <-> sub-account). Managers and operators; nothing is charged. Transferring to the current owner changes nothing.",
  input: TransferPhoneNumberInput,
  result: sharedResult(
    "TransferPhoneNumber",
    TransferPhoneNumberSuccess,
    [E.NotFoundError, E.ForbiddenError, E.AccountNotActiveError, E.ConflictError],
    "The result of transferPhoneNumber.",
  ),
  resolve: (input, ctx) => phoneNumbers.transferPhoneNumber(ctx.viewer, phoneNumberId(String(input.id)), decodeAccountRef(String(input.toAccountId))),
});

// ----------------------------------------------------------------- release

const ReleasePhoneNumberInput = builder.inputType("ReleasePhoneNumberInput", {
  description: "The number to release.",
  fields: (t) => ({ id: t.id({ required: true, description: "The phone number's global id." }) }),
});

const ReleasePhoneNumberSuccess = builder.objectRef<PhoneNumber>("ReleasePhoneNumberSuccess").implement({
  description: "The released number.",
  fields: (t) => ({
    phoneNumber: t.field({ type: PhoneNumberRef, description: "The number, now RELEASED with `releasedAt` set.", resolve: (n) => n }),
  }),
});

defineMutation("releasePhoneNumber", {
  action: "phoneNumber:release",
  description:
    "Release an ACTIVE number: its owner, the owner's manager or an operator. It stays listed with `includeReleased` and can be provisioned again. Releasing a released number is a ConflictError.",
  input: ReleasePhoneNumberInput,
  result: sharedResult(
    "ReleasePhoneNumber",
    ReleasePhoneNumberSuccess,
    [E.NotFoundError, E.ForbiddenError, E.ConflictError],
    "The result of releasePhoneNumber.",
  ),
  resolve: (input, ctx) => phoneNumbers.releasePhoneNumber(ctx.viewer, phoneNumberId(String(input.id))),
});
