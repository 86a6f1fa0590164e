import { encodeGlobalID } from "@pothos/plugin-relay";
import { type GraphQLSchema, isObjectType } from "graphql";
import { idOf } from "../read/pages.js";

/**
 * Makes every Node type's `id` resolve synchronously.
 *
 * The relay plugin resolves a node's `id` through an async wrapper (its
 * `globalID` field), so every id of a list is a promise the executor has to
 * await: 250 sub-accounts are 250 promises and their bookkeeping, for a
 * value that is just `base64("<Type>:<row id>")`. Every Node type here is a
 * `prismaNode` with `id: { field: "id" }` and the plugin's default encoding
 * (builder.ts sets no `encodeGlobalID`), so the same string is computed here
 * directly (not on types with their own auth scopes, whose fields check
 * them one by one). test/schema.test.ts checks each Node type against the
 * plugin's own encoding.
 */
export function resolveNodeIdsSynchronously(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || !type.getInterfaces().some((i) => i.name === "Node")) continue;
    // A type with its own auth scopes (LedgerEntry) keeps the plugin's resolver, which checks them field by field.
    if (type.extensions?.pothosOptions && (type.extensions.pothosOptions as { authScopes?: unknown }).authScopes) continue;
    const id = type.getFields().id;
    if (!id) continue;
    const typename = type.name;
    id.resolve = (row: { id: string }) => encodeGlobalID(typename, String(idOf(row)));
  }
  return schema;
}
