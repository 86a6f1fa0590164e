import type { EventType } from "../../generated/prisma/client.js";
import { builder } from "../builder.js";

/** Every event type, with what it means; the Prisma enum (and migration 0005) holds the same names. */
export const EVENT_TYPES: Record<EventType, string> = {
  MANAGER_CREATED: "The operator created a manager.",
  MANAGER_UPDATED: "A manager's settings changed.",
  MANAGER_SUSPENDED: "The operator suspended a manager.",
  MANAGER_REACTIVATED: "The operator reactivated a manager.",
  SUB_ACCOUNT_CREATED: "A manager created a sub-account.",
  SUB_ACCOUNT_UPDATED: "A sub-account's settings changed.",
  SUB_ACCOUNT_SUSPENDED: "A sub-account was suspended (by its manager, the operator, or a SUSPEND usage trigger).",
  SUB_ACCOUNT_REACTIVATED: "A suspended sub-account was reactivated.",
  SUB_ACCOUNT_CLOSED: "A sub-account was closed.",
  SUB_ACCOUNT_PURGED: "A closed sub-account's data was deleted; its events stay, with `account` null.",
  API_KEY_CREATED: "An API key was created.",
  API_KEY_ROLLED: "An API key was rolled: a new secret, the current one expiring.",
  API_KEY_REVOKED: "An API key was revoked.",
  PHONE_NUMBER_PROVISIONED: "A phone number was provisioned (and its first month charged).",
  PHONE_NUMBER_TRANSFERRED: "A phone number moved to another account of the tree.",
  PHONE_NUMBER_RELEASED: "A phone number was released.",
  PRICING_UPDATED: "An account's rate card changed (the rates are for managers and operators only).",
  BALANCE_TOPPED_UP: "Funds were added to a balance.",
  BALANCE_TRANSFERRED: "Funds moved between two balances of a tree; one event on each side.",
  USAGE_RECORDED: "Usage was recorded and charged.",
  CREDIT_LIMIT_REACHED: "A charge was refused by the credit limit, or totalSpent reached it.",
  USAGE_TRIGGER_CREATED: "A usage trigger was created.",
  USAGE_TRIGGER_DELETED: "A usage trigger was deleted.",
  USAGE_TRIGGER_FIRED: "A usage trigger's condition was met by a charge (in that charge's transaction).",
  WEBHOOK_ENDPOINT_CREATED: "A webhook endpoint was created.",
  WEBHOOK_ENDPOINT_UPDATED: "A webhook endpoint was changed (or enabled again).",
  WEBHOOK_ENDPOINT_DELETED: "A webhook endpoint was deleted.",
  WEBHOOK_ENDPOINT_DISABLED: "A webhook endpoint was disabled after failing for 3 days.",
};

export const EventTypeEnum = builder.enumType("EventType", {
  description: "What an event records.",
  values: Object.fromEntries(Object.entries(EVENT_TYPES).map(([name, description]) => [name, { value: name, description }])) as {
    [K in EventType]: { value: K; description: string };
  },
});
