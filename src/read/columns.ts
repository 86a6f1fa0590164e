import { type GraphQLCompositeType, type GraphQLField, getNamedType, isCompositeType, isInterfaceType, isObjectType, type SelectionSetNode } from "graphql";
import type { ListField } from "./lists.js";
import { compositeFieldType, type FieldSelection, selectedFields } from "./selections.js";
import type { Model } from "./tables.js";

// Which columns a list must read for the fields a query asks of its items.
// Reading only those is most of what makes a wide list cheap: every column
// of every row is parsed by the driver and allocated in Node (timestamps
// into Dates), and 250 sub-accounts with 750 numbers are a lot of cells.
//
// Each field says what it reads where it is defined (`reads`, through
// schema/readsPlugin.ts; exposed fields read their own column). A field that
// says nothing makes the list read whole rows, so it can never see a column
// left out; test/read/columns.test.ts checks every field against a
// whole-row read, and fails for an item type's field that says nothing.

/** What schema/readsPlugin.ts leaves on a GraphQL field's extensions. */
export interface ReadsExtensions {
  reads?: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: any list of the table; its own resolver uses its real types
  readsList?: ListField<any, any>;
}

/** What a field declared it reads (schema/readsPlugin.ts); nothing for a field that declared nothing. */
export const readsOf = (field: GraphQLField<unknown, unknown> | undefined): ReadsExtensions => (field?.extensions ?? {}) as ReadsExtensions;

/**
 * The columns a field of an item type reads, or undefined when it declared
 * nothing (then the list reads whole rows). `__typename` reads nothing, and
 * a Node's `id` (made by the relay plugin) reads the row's id.
 */
function columnsOf(itemType: GraphQLCompositeType, name: string): readonly string[] | undefined {
  if (name === "__typename") return [];
  if (!isObjectType(itemType) && !isInterfaceType(itemType)) return undefined;
  const field = itemType.getFields()[name];
  return readsOf(field).reads ?? (name === "id" && field ? ["id"] : undefined);
}

/**
 * Every row keeps these. An account's id is what all its lists and balances
 * hang off, and its kind tells its type apart. A number or a key is a leaf:
 * its id is read only when the query needs it, for its `id`, a cursor
 * (`edges`, `pageInfo`) or anything read whole; in a tree of 250
 * sub-accounts asking for their numbers, ids were most of the numbers' bytes.
 */
const ALWAYS: Record<Model, readonly string[]> = { Account: ["id", "kind"], PhoneNumber: [], ApiKey: [] };

/**
 * The columns to read for the items of a connection field (its `nodes` and
 * `edges.node`, through fragments), or undefined for whole rows when some
 * field asked for declares no `reads`.
 */
export function narrowColumns(model: Model, selection: FieldSelection): string[] | undefined {
  const columns = new Set(ALWAYS[model]);
  let whole = false;
  const connectionType = getNamedType(selection.returnType);
  if (!isCompositeType(connectionType)) return undefined;
  const fieldsOn = (sets: readonly (SelectionSetNode | undefined)[], type: GraphQLCompositeType) => selectedFields(selection, sets, type);
  const addItemColumns = (set: SelectionSetNode | undefined, itemType: GraphQLCompositeType) => {
    for (const { field } of fieldsOn([set], itemType)) {
      const needs = columnsOf(itemType, field.name.value);
      if (needs) for (const c of needs) columns.add(c);
      else whole = true;
    }
  };
  for (const { field, parentType } of fieldsOn(
    selection.fieldNodes.map((n) => n.selectionSet),
    connectionType,
  )) {
    const name = field.name.value;
    if (name === "nodes") {
      const itemType = compositeFieldType(parentType, "nodes");
      if (itemType) addItemColumns(field.selectionSet, itemType);
    } else if (name === "edges") {
      // An edge's cursor, and pageInfo's, are made from the row's id.
      columns.add("id");
      const edgeType = compositeFieldType(parentType, "edges");
      if (!edgeType) continue;
      for (const edgeField of fieldsOn([field.selectionSet], edgeType)) {
        const itemType = edgeField.field.name.value === "node" ? compositeFieldType(edgeField.parentType, "node") : undefined;
        if (itemType) addItemColumns(edgeField.field.selectionSet, itemType);
      }
    } else if (name === "pageInfo") columns.add("id");
  }
  return whole ? undefined : [...columns].sort();
}
