import type { PrismaModelTypes, PrismaObjectRef } from "@pothos/plugin-prisma";
import type PrismaTypes from "../../generated/pothos-types.js";
import type { ApiKey } from "../../generated/prisma/client.js";
import { accountRows } from "../../read/accounts.js";
import { AccountRef } from "../accounts/Account.js";
import { type BuilderTypes, builder } from "../builder.js";
import { type SharedConnection, sharedConnection } from "../connections.js";

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
      // The account of a reachable key is reachable (auth/rowFilters.ts).
      resolve: async (key, _args, ctx) => (await accountRows(ctx).load(key.accountId))!,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the key was created." }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "When the key last authenticated a request (kept to the minute).",
    }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When the key was revoked; null while it works." }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      nullable: true,
      description: "When the key stops working (the same 401 as an unknown key from then on); null: it does not expire. Rolling a key sets its old secret's.",
    }),
  }),
});

export const ApiKeyConnection: SharedConnection = sharedConnection(ApiKeyRef, "ApiKey", "API keys");
