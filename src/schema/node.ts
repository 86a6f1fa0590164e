import { brandWithType } from "@pothos/core";
import { queryFromInfo } from "@pothos/plugin-prisma";
import type { GraphQLResolveInfo } from "graphql";
import { reachableAccounts, reachableApiKeys, reachableAuditEvents, within } from "../auth/rowFilters.js";
import type { Viewer } from "../auth/viewer.js";
import type { Context } from "../context.js";
import { prisma } from "../db/client.js";
import type { Prisma } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { parseGlobalId } from "./globalIds.js";

type Loader = (ids: string[], viewer: Viewer, query: object) => Promise<{ id: string }[]>;

/**
 * How `node` and `nodes` load each type: always through the type's row
 * filter, so an unreachable row comes back exactly like a missing one (null).
 */
const loaders: Record<string, Loader> = {
  Manager: (ids, viewer, query) =>
    prisma.account.findMany({ ...query, where: within<Prisma.AccountWhereInput>({ id: { in: ids }, kind: "MANAGER" }, reachableAccounts(viewer)) }),
  SubAccount: (ids, viewer, query) =>
    prisma.account.findMany({ ...query, where: within<Prisma.AccountWhereInput>({ id: { in: ids }, kind: "SUB_ACCOUNT" }, reachableAccounts(viewer)) }),
  ApiKey: (ids, viewer, query) => prisma.apiKey.findMany({ ...query, where: within<Prisma.ApiKeyWhereInput>({ id: { in: ids } }, reachableApiKeys(viewer)) }),
  AuditEvent: (ids, viewer, query) =>
    prisma.auditEvent.findMany({ ...query, where: within<Prisma.AuditEventWhereInput>({ id: { in: ids } }, reachableAuditEvents(viewer)) }),
};

/** Registers the loader of a node type defined in another module (phone numbers, billing). */
export function registerNodeLoader(typename: string, loader: Loader): void {
  loaders[typename] = loader;
}

/**
 * The ids among `ids` that the viewer may reach as rows of `typename`, by the
 * same row filters as `node`. Undefined for a type with no loader.
 */
export async function reachableIds(typename: string, ids: string[], viewer: Viewer): Promise<Set<string> | undefined> {
  const loader = loaders[typename];
  if (!loader) return undefined;
  return new Set((await loader(ids, viewer, { select: { id: true } })).map((row) => row.id));
}

export const MAX_NODES_PER_REQUEST = 100;

/** Loads global ids in one query per type; null in the place of anything unreachable or malformed. */
async function loadNodes(globalIds: readonly string[], ctx: Context, info: GraphQLResolveInfo): Promise<(object | null)[]> {
  const parsed = globalIds.map(parseGlobalId);
  const byType = new Map<string, string[]>();
  for (const p of parsed) {
    // A type the caller's (role-scoped) schema leaves out resolves to null, like a missing row.
    if (p && loaders[p.typename] && info.schema.getType(p.typename)) byType.set(p.typename, [...(byType.get(p.typename) ?? []), p.id]);
  }
  const found = new Map<string, object>();
  await Promise.all(
    [...byType].map(async ([typename, ids]) => {
      const query = queryFromInfo({ context: ctx, info, typeName: typename });
      for (const row of await loaders[typename]!(ids, ctx.viewer, query)) {
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
