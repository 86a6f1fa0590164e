import type { ObjectRef } from "@pothos/core";
import { defaultFieldResolver, type GraphQLResolveInfo, type GraphQLSchema, getNamedType, isObjectType } from "graphql";
import { effectivePage } from "../domain/paging.js";
import { type ListField, loadPage } from "../read/lists.js";
import { Connection, type Page } from "../read/pages.js";
import { describeList, type PageArgsInput, pageArgsOf } from "../read/prefetch.js";
import { type BuilderTypes, builder } from "./builder.js";

/** A shared connection type, as relatedConnection/prismaConnection accept it. */
// biome-ignore lint/suspicious/noExplicitAny: Pothos infers a connection's shape from its node type; a shared connection serves several
export type SharedConnection = ObjectRef<BuilderTypes, any>;

/**
 * A named, shared Relay connection (`<Name>Connection` / `<Name>Edge`) with
 * `totalCount`, reusable by every field that lists the same type.
 */
// biome-ignore lint/suspicious/noExplicitAny: Pothos infers a connection's shape from its node type; a shared connection serves several
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
 * Resolves a connection field from a plain-SQL list (read/lists.ts): this
 * parent's page, batched with every other parent of the same field in the
 * request (or read along with the parent's own page, read/prefetch.ts),
 * reading only the columns and the count the query asks for.
 */
export function sqlListConnection<Filter, Args, Row extends { id: string }>(
  field: ListField<Filter, Args>,
  ctx: object,
  info: GraphQLResolveInfo,
  parentId: string,
  args: Args & PageArgsInput,
  onRows?: (rows: Row[], wholeRows: boolean) => void,
) {
  const page = loadPage<Filter, Row>(field.spec, ctx, info, parentId, () => describeList(field, args, info));
  // A page read along with its parent's is answered synchronously: no promise per parent row.
  return page instanceof Promise ? page.then((result) => connectionOfPage(result, args, onRows)) : connectionOfPage(page, args, onRows);
}

function connectionOfPage<Row extends { id: string }>(page: Page<Row>, args: PageArgsInput, onRows?: (rows: Row[], wholeRows: boolean) => void) {
  onRows?.(page.rows, page.wholeRows);
  return new Connection(page, pageArgsOf(args));
}

/**
 * Lets every connection's `nodes` field answer a plain-SQL page's rows as
 * they are. The relay plugin's `nodes` resolver maps the connection's edges
 * to their nodes, which would build an edge per row just to take it apart
 * (a tree's 250 pages of numbers are a thousand edges nobody asked for);
 * other connections (the Prisma plugin's) keep that resolver.
 */
export function readSqlConnectionNodesDirectly(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || !type.name.endsWith("Connection")) continue;
    const nodes = type.getFields().nodes;
    const relayResolve = nodes?.resolve;
    if (!nodes || !relayResolve) continue;
    nodes.resolve = (connection, args, ctx, info) => (connection instanceof Connection ? connection.nodes : relayResolve(connection, args, ctx, info));
  }
  return schema;
}

/**
 * Gives every connection's resolver the page argumentRules.ts judged: when
 * `last` or `before` is given, `first`'s schema default (20) steps aside, so
 * `subAccounts(last: 7)` pages backwards as Relay clients send it. A `first`
 * the client gave itself never reaches here together with them: the argument
 * rules refuse that before execution.
 */
export function resolveDefaultedFirstAsAbsent(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      if (!getNamedType(field.type).name.endsWith("Connection") || !field.args.some((a) => a.name === "last")) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (parent, args, ctx, info) =>
        args.last != null || args.before != null ? resolve(parent, { ...args, first: effectivePage(args).first }, ctx, info) : resolve(parent, args, ctx, info);
    }
  }
  return schema;
}
