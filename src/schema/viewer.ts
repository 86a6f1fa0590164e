import type { Viewer } from "../auth/viewer.js";
import { prisma } from "../db/client.js";
import { accountRows } from "../read/accounts.js";
import { AccountRef } from "./accounts/Account.js";
import { ApiKeyRef } from "./apiKeys/ApiKey.js";
import { builder } from "./builder.js";
import { RoleEnum } from "./enums.js";

const ViewerRef = builder.objectRef<Viewer>("Viewer").implement({
  description: "The caller of this request, as its credentials identify it.",
  fields: (t) => ({
    role: t.field({ type: RoleEnum, description: "The caller's role.", resolve: (v) => v.role }),
    account: t.field({
      type: AccountRef,
      nullable: true,
      description: "The caller's own account; null for the operator.",
      // Through the per-request row cache: the root of most trees, read on most requests.
      resolve: (v, _args, ctx) => (v.role === "OPERATOR" ? null : accountRows(ctx).load(v.accountId)),
    }),
    apiKey: t.prismaField({
      type: ApiKeyRef,
      nullable: true,
      description: "The API key that authenticated this request (the manager's, when acting as a sub-account); null for the operator.",
      resolve: async (query, v) =>
        v.role === "OPERATOR" || v.actingAs?.role === "OPERATOR" ? null : await prisma.apiKey.findUnique({ ...query, where: { id: v.apiKey.id } }),
    }),
    actingAs: t.boolean({
      description:
        "True when a manager key (or the operator token) acts as this sub-account (header `Act-As-Account: <SubAccount id>`): the request has the sub-account's rights and schema, and its changes are recorded as the caller's.",
      resolve: (v) => v.role !== "OPERATOR" && v.actingAs !== undefined,
    }),
  }),
});

builder.queryField("viewer", (t) => t.field({ type: ViewerRef, description: "Who is calling.", resolve: (_root, _args, ctx) => ctx.viewer }));
