import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { ApiKey } from "../../generated/prisma/client.js";
import { ownerAccountOf } from "../../read/accounts.js";
import { permissionsOfKey } from "../../services/apiKeys.js";
import { AccountRef } from "../accounts/Account.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection } from "../connections.js";

export const ApiKeyPermissionEnum = builder.enumType("ApiKeyPermission", {
  description:
    "What a restricted API key may do. A restricted key's schema is its role's less what its permissions do not cover: introspection does not show the rest, and naming it is FORBIDDEN. Permissions do not imply one another (a write does not read). A permission its role never has (e.g. BILLING_READ for a sub-account) grants nothing.",
  values: {
    ACCOUNTS_READ: {
      description:
        "Read accounts: every field of an account but its id (which any key may name and read), and its lists: sub-accounts, API keys, phone numbers, balance, usage records, summaries and reports (quantities), audit events.",
    },
    ACCOUNTS_WRITE: { description: "Create, update, suspend, reactivate and close sub-accounts; update the manager." },
    KEYS_WRITE: { description: "Create, roll and revoke API keys (never with more permissions, or a later expiry, than the key itself)." },
    NUMBERS_WRITE: { description: "Provision, transfer and release phone numbers." },
    BILLING_READ: { description: "Read pricing, costs and ledgers (where the role may see them at all: managers and operators)." },
    BILLING_WRITE: { description: "Top up balances and transfer funds." },
    USAGE_WRITE: { description: "Record usage (recordUsage)." },
    EVENTS_READ: { description: "Read events (`Account.events`, `node`) and subscribe to them (`Subscription.events`)." },
    WEBHOOKS_WRITE: { description: "Create, change, delete and read webhook endpoints and their deliveries, redeliver events, and manage usage triggers." },
  } as const,
});

export const ApiKeyRef: PrismaObjectRef<BuilderTypes, PrismaModelTypes & PrismaTypes["ApiKey"], ApiKey> = builder.prismaNode("ApiKey", {
  description: "An API key of an account. The secret is shown once, at creation; only its hash is kept.",
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    name: t.exposeString("name", { description: 'Name given to the key, e.g. "production server".' }),
    prefix: t.exposeString("prefix", { description: "The first characters of the secret, for recognising a key; never the secret." }),
    account: t.field({
      type: AccountRef,
      description: "The account the key authenticates as.",
      reads: ["accountId"],
      resolve: ownerAccountOf,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the key was created." }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "When the key last authenticated a request (kept to the minute).",
    }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When the key was revoked; null while it works." }),
    permissions: t.field({
      type: [ApiKeyPermissionEnum],
      nullable: true,
      description: "What the key is restricted to, in this enum's order; null: unrestricted (everything its account's role may do).",
      reads: ["restricted", "permissions"],
      resolve: (key) => permissionsOfKey(key),
    }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      nullable: true,
      description: "When the key stops working (the same 401 as an unknown key from then on); null: it does not expire. Rolling a key sets its old secret's.",
    }),
  }),
});

export const ApiKeyConnection: SharedConnection = sharedConnection(ApiKeyRef, "ApiKey", "API keys");
