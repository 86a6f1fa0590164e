import { type FieldNode, type GraphQLObjectType, getArgumentValues, getNamedType, isCompositeType, isObjectType, type SelectionSetNode } from "graphql";
import { effectivePage } from "../domain/paging.js";
import { narrowColumns, readsOf } from "./columns.js";
import { type DescribedList, type ListField, NEWEST_FIRST_ORDER } from "./lists.js";
import type { NestedList, PageArgs } from "./pages.js";
import { compositeFieldType, type FieldSelection, responseKey, selectedFields } from "./selections.js";

// Lists read along with their parents' page. A tree query asks a list of
// every row of a page (the numbers of each of 250 sub-accounts); the page's
// own statement reads those lists too (read/pages.ts), so the tree is one
// statement and one round trip instead of one per level.
//
// A nested list's resolver still runs as usual (with its field's
// authorization): it works out its request from its own field nodes, and
// takes the page read along only if that request's signature (everything
// that decides the page: list, filter, order, page arguments, count,
// columns) is the one read along. A mismatch (a selection this module
// collects differently from the executor) costs a statement, never a wrong
// page. Nested lists add no row filter: their rows are reachable exactly
// when the parent row is (read/lists.ts).

/** Where a list field appears in the document (a resolver's info): its field nodes, its (connection) type, and the request's scope. */
export type Selection = FieldSelection;

export type PageArgsInput = { first?: number | null; last?: number | null; after?: string | null; before?: string | null };

/** The page arguments of a connection field, as argumentRules.ts' `effectivePage` reads them (a defaulted `first` yields to `last`/`before`). */
export const pageArgsOf = (args: PageArgsInput): PageArgs => ({ ...effectivePage(args), after: args.after, before: args.before });

/** The request of a list field at `selection` with `args`, with the lists its items ask for. */
export function describeList<Filter, Args>(field: ListField<Filter, Args>, args: Args & PageArgsInput, selection: Selection): DescribedList<Filter> {
  const request = {
    filter: field.filter(args),
    order: field.order?.(args) ?? NEWEST_FIRST_ORDER,
    page: pageArgsOf(args),
    withCount: selectsTotalCount(selection),
    columns: narrowColumns(field.spec.model, selection),
    nested: nestedListsOf(selection),
  };
  return { request, key: signatureOf(field, request) };
}

/** Everything that decides a list's pages, as one string. */
// biome-ignore lint/suspicious/noExplicitAny: any list field of the table; each only ever sees its own filter and arguments
function signatureOf(field: ListField<any, any>, request: DescribedList<unknown>["request"]): string {
  const { spec } = field;
  return `${spec.model}.${spec.parentColumn}:${JSON.stringify([request.filter, request.order, request.page, request.withCount, request.columns ?? null])}`;
}

/** The list fields (those declaring `readsList`) that the items of the list at `selection` select, each with its own request. */
function nestedListsOf(selection: Selection): NestedList[] {
  const connectionType = getNamedType(selection.returnType);
  const itemType = compositeFieldType(connectionType, "nodes");
  if (!isObjectType(itemType)) return [];
  const itemFields = itemType.getFields();

  const nested = new Map<string, NestedList>();
  for (const group of itemSelections(selection, itemType)) {
    // Field nodes by response key, as the executor merges them for one item.
    const byKey = new Map<string, FieldNode[]>();
    for (const { field: node } of selectedFields(selection, group, itemType)) {
      if (!readsOf(itemFields[node.name.value]).readsList) continue;
      const key = responseKey(node);
      byKey.set(key, [...(byKey.get(key) ?? []), node]);
    }
    for (const nodes of byKey.values()) {
      const name = nodes[0]!.name.value;
      const definition = itemFields[name];
      if (!definition) continue;
      const list = readsOf(definition).readsList!;
      const args = getArgumentValues(definition, nodes[0]!, selection.variableValues);
      const described = describeList(list, args, { ...selection, fieldNodes: nodes, returnType: definition.type });
      nested.set(described.key, { key: described.key, spec: list.spec, request: described.request });
    }
  }
  return [...nested.values()];
}

/**
 * The selection sets that apply to each item of a connection (its `nodes { }`
 * and its `edges { node { } }`), grouped by response path as the executor
 * merges them: the sets of one group resolve one item's fields together.
 */
function itemSelections(selection: Selection, itemType: GraphQLObjectType): SelectionSetNode[][] {
  const connectionType = getNamedType(selection.returnType);
  if (!isCompositeType(connectionType)) return [];
  const groups = new Map<string, SelectionSetNode[]>();
  const add = (path: string, set: SelectionSetNode | undefined) => {
    if (set) groups.set(path, [...(groups.get(path) ?? []), set]);
  };
  for (const { field, parentType } of selectedFields(
    selection,
    selection.fieldNodes.map((n) => n.selectionSet),
    connectionType,
  )) {
    if (field.name.value === "nodes") add(`nodes:${responseKey(field)}`, field.selectionSet);
    if (field.name.value !== "edges") continue;
    const edgeType = compositeFieldType(parentType, "edges");
    if (!edgeType) continue;
    for (const { field: edgeField, parentType: onEdge } of selectedFields(selection, [field.selectionSet], edgeType)) {
      if (edgeField.name.value === "node" && compositeFieldType(onEdge, "node") === itemType) {
        add(`edges:${responseKey(field)}.${responseKey(edgeField)}`, edgeField.selectionSet);
      }
    }
  }
  return [...groups.values()];
}

/**
 * Whether the connection field selects `totalCount` (directly or through
 * fragments, unless @skip/@include turn it off): counting a long list costs
 * a scan, so it is only done when asked for.
 */
export function selectsTotalCount(selection: Selection): boolean {
  const connectionType = getNamedType(selection.returnType);
  if (!isCompositeType(connectionType)) return false;
  const fields = selectedFields(
    selection,
    selection.fieldNodes.map((n) => n.selectionSet),
    connectionType,
  );
  return fields.some(({ field }) => field.name.value === "totalCount");
}
