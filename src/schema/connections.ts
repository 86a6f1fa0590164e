import type { ObjectRef } from "@pothos/core";
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import { columnsForConnection } from "../read/columns.js";
import { loadPage, NEWEST_FIRST_ORDER } from "../read/lists.js";
import { connectionOf, type ListOrder, type ListSpec, type PageArgs } from "../read/pages.js";
import { fieldSetOf, type FieldSet } from "../read/fieldSets.js";
import { builder, type BuilderTypes } from "./builder.js";

/** A shared connection type, as relatedConnection/prismaConnection accept it. */
export type SharedConnection = ObjectRef<BuilderTypes, any>;

/**
 * A named, shared Relay connection (`<Name>Connection` / `<Name>Edge`) with
 * `totalCount`, reusable by every field that lists the same type.
 */
export function sharedConnection(ref: ObjectRef<BuilderTypes, any>, name: string, plural: string): SharedConnection {
  const edge = builder.edgeObject({
    type: ref,
    name: `${name}Edge`,
    description: `One of ${plural}, with its cursor.`,
  });
  return builder.connectionObject(
    {
      type: ref,
      name: `${name}Connection`,
      description: `A page of ${plural}.`,
      fields: (t) => ({
        totalCount: t.int({
          description: `How many ${plural} the whole list holds (with the same filters), across all pages.`,
          resolve: (connection) => {
            const { totalCount } = connection as unknown as { totalCount?: number | (() => number | Promise<number>) };
            return typeof totalCount === "function" ? totalCount() : (totalCount ?? 0);
          },
        }),
      }),
    },
    edge,
  );
}

/** Newest first, with the id to break ties between rows of the same millisecond. */
export const NEWEST_FIRST = [{ createdAt: "desc" as const }, { id: "desc" as const }];

/**
 * Whether the connection field being resolved selects `totalCount` (directly
 * or through fragments): counting a long list costs a scan, so it is only done
 * when asked for.
 */
export function asksForTotalCount(info: GraphQLResolveInfo): boolean {
  // Keyed by all the field's nodes: a fragment's node may be merged with other selections elsewhere.
  const fieldSet = fieldSetOf(info);
  let asks = totalCountByFieldSet.get(fieldSet);
  if (asks === undefined) totalCountByFieldSet.set(fieldSet, (asks = selectsTotalCount(info)));
  return asks;
}

const totalCountByFieldSet = new WeakMap<FieldSet, boolean>();

function selectsTotalCount(info: GraphQLResolveInfo): boolean {
  const visit = (selectionSet: SelectionSetNode | undefined): boolean =>
    !!selectionSet?.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === "totalCount";
      if (s.kind === Kind.INLINE_FRAGMENT) return visit(s.selectionSet);
      return visit(info.fragments[s.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet));
}

/** The page arguments of a connection field. */
export const pageArgsOf = (args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null }): PageArgs => ({
  first: args.first,
  last: args.last,
  after: args.after,
  before: args.before,
});

/**
 * Resolves a connection field from a plain-SQL list (read/lists.ts): this
 * parent's page, batched with every other parent of the same field in the
 * request, reading only the columns and the count the query asks for.
 */
export async function sqlListConnection<Filter, Row extends { id: string }>(
  spec: ListSpec<Filter>,
  ctx: object,
  info: GraphQLResolveInfo,
  parentId: string,
  args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null },
  list: { filter: () => Filter; order?: ListOrder; onRows?: (rows: Row[], wholeRows: boolean) => void },
) {
  const page = pageArgsOf(args);
  const columns = columnsForConnection(spec.model, info);
  const result = await loadPage<Filter, Row>(spec, ctx, info, parentId, () => ({
    filter: list.filter(),
    order: list.order ?? NEWEST_FIRST_ORDER,
    page,
    withCount: asksForTotalCount(info),
    columns,
  }));
  list.onRows?.(result.rows, !columns);
  return connectionOf(result, page);
}
