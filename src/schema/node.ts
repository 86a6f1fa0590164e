import { brandWithType } from "@pothos/core";
import { queryFromInfo } from "@pothos/plugin-prisma";
import type { GraphQLResolveInfo } from "graphql";
import type { Permission } from "../auth/actions.js";
import { reachableAccounts, reachableApiKeys, reachableAuditEvents, within } from "../auth/rowFilters.js";
import { holds, type Viewer } from "../auth/viewer.js";
import type { Context } from "../context.js";
import { prisma } from "../db/client.js";
import type { Prisma } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { parseGlobalId } from "./globalIds.js";

type Loader = (ids: string[], viewer: Viewer, query: object) => Promise<{ id: string }[]>;

/**
 * How `node` and `nodes` load each type: always through the type's row
 * filter, so an unreachable row comes back exactly like a missing one
 * (null), and only for a key holding the permission that reads such rows
 * (DOMAIN.md "Least-privilege keys"), else null too. Accounts need none:
 * any key may name an account it reaches (it does in every input), and
 * what it reads of one (all but its id) needs ACCOUNTS_READ field by field.
 */
const loaders: Record<string, { permission: Permission | null; load: Loader }> = {
  Manager: {
    permission: null,
    load: (ids, viewer, query) =>
      prisma.account.findMany({ ...query, where: within<Prisma.AccountWhereInput>({ id: { in: ids }, kind: "MANAGER" }, reachableAccounts(viewer)) }),
  },
  SubAccount: {
    permission: null,
    load: (ids, viewer, query) =>
      prisma.account.findMany({ ...query, where: within<Prisma.AccountWhereInput>({ id: { in: ids }, kind: "SUB_ACCOUNT" }, reachableAccounts(viewer)) }),
  },
  ApiKey: {
    permission: "ACCOUNTS_READ",
    load: (ids, viewer, query) => prisma.apiKey.findMany({ ...query, where: within<Prisma.ApiKeyWhereInput>({ id: { in: ids } }, reachableApiKeys(viewer)) }),
  },
  AuditEvent: {
    permission: "ACCOUNTS_READ",
    load: (ids, viewer, query) =>
      prisma.auditEvent.findMany({ ...query, where: within<Prisma.AuditEventWhereInput>({ id: { in: ids } }, reachableAuditEvents(viewer)) }),
  },
};

/** Registers the loader of a node type defined in another module (phone numbers, billing), with the permission that reads its rows. */
export function registerNodeLoader(typename: string, permission: Permission, load: Loader): void {
  loaders[typename] = { permission, load };
}

/** The permission `node` needs to load a type's rows (for tests that walk the table). */
export const nodePermissionOf = (typename: string): Permission | null | undefined => loaders[typename]?.permission;

/**
 * The ids among `ids` that the viewer may reach as rows of `typename`, by the
 * same row filters as `node`. Undefined for a type with no loader.
 */
export async function reachableIds(typename: string, ids: string[], viewer: Viewer): Promise<Set<string> | undefined> {
  const loader = loaders[typename];
  if (!loader) return undefined;
  return new Set((await loader.load(ids, viewer, { select: { id: true } })).map((row) => row.id));
}

export const MAX_NODES_PER_REQUEST = 100;

/** Loads global ids in one query per type; null in the place of anything unreachable or malformed. */
async function loadNodes(globalIds: readonly string[], ctx: Context, info: GraphQLResolveInfo): Promise<(object | null)[]> {
  const parsed = globalIds.map(parseGlobalId);
  const byType = new Map<string, string[]>();
  for (const p of parsed) {
    // A type the caller's schema leaves out, or whose rows its key may not read, resolves to null, like a missing row.
    const loader = p && loaders[p.typename];
    if (p && loader && info.schema.getType(p.typename) && (!loader.permission || holds(ctx.viewer, loader.permission)))
      byType.set(p.typename, [...(byType.get(p.typename) ?? []), p.id]);
  }
  const found = new Map<string, object>();
  await Promise.all(
    [...byType].map(async ([typename, ids]) => {
      const query = queryFromInfo({ context: ctx, info, typeName: typename });
      for (const row of await loaders[typename]!.load(ids, ctx.viewer, query)) {
        brandWithType(row, typename as never);
        found.set(`${typename}:${row.id}`, row);
      }
    }),
  );
  return parsed.map((p) => (p ? (found.get(`${p.typename}:${p.id}`) ?? null) : null));
}

builder.queryField("node", (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: "The object with this global id, or null when it does not exist or is out of the caller's reach.",
    args: { id: t.arg.id({ required: true, description: "A global id." }) },
    resolve: async (_root, { id }, ctx, info) => (await loadNodes([String(id)], ctx, info))[0] as never,
  }),
);

builder.queryField("nodes", (t) =>
  t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: `The objects with these global ids, in order; null in the place of each one that does not exist or is out of reach. At most ${MAX_NODES_PER_REQUEST} ids.`,
    args: { ids: t.arg.idList({ required: true, description: "Global ids." }) },
    extensions: {
      validateArgs: (args: { ids: unknown[] }) => (args.ids.length > MAX_NODES_PER_REQUEST ? [`ids must hold at most ${MAX_NODES_PER_REQUEST} ids`] : []),
    },
    resolve: (_root, { ids }, ctx, info) => loadNodes(ids.map(String), ctx, info) as never,
  }),
);
