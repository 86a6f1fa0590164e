import {
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLIncludeDirective,
  type GraphQLOutputType,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import { effectivePage } from "../domain/paging.js";
import { narrowColumns } from "./columns.js";
import { type DescribedList, LIST_FIELDS, type ListField, NEWEST_FIRST_ORDER } from "./lists.js";
import type { NestedList, PageArgs } from "./pages.js";

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

/** Where a list field appears in the document: its field nodes, and what reads them. */
export interface Selection {
  fieldNodes: readonly FieldNode[];
  fragments: Record<string, FragmentDefinitionNode>;
  variableValues: Record<string, unknown>;
  /** The field's (connection) type. */
  returnType: GraphQLOutputType;
}

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
    nested: nestedListsOf(field, selection),
  };
  return { request, key: signatureOf(field, request) };
}

/** Everything that decides a list's pages, as one string. */
// biome-ignore lint/suspicious/noExplicitAny: any list field of the table; each only ever sees its own filter and arguments
function signatureOf(field: ListField<any, any>, request: DescribedList<unknown>["request"]): string {
  const { spec } = field;
  return `${spec.model}.${spec.parentColumn}:${JSON.stringify([request.filter, request.order, request.page, request.withCount, request.columns ?? null])}`;
}

/** The list fields that the items of the list at `selection` select, each with its own request. */
// biome-ignore lint/suspicious/noExplicitAny: any list field of the table; each only ever sees its own filter and arguments
function nestedListsOf(field: ListField<any, any>, selection: Selection): NestedList[] {
  const candidates = LIST_FIELDS[field.spec.model];
  const itemType = getNamedType(connectionFieldType(selection.returnType, "nodes"));
  if (!itemType || !(isObjectType(itemType) || isInterfaceType(itemType))) return [];
  const itemFields = itemType.getFields();

  const nested = new Map<string, NestedList>();
  for (const group of itemSelections(selection)) {
    // Field nodes by response key, as the executor merges them for one item.
    const byKey = new Map<string, FieldNode[]>();
    for (const items of group) {
      collectFields(items, selection, (node) => {
        if (!candidates[node.name.value]) return;
        const key = node.alias?.value ?? node.name.value;
        byKey.set(key, [...(byKey.get(key) ?? []), node]);
      });
    }
    for (const nodes of byKey.values()) {
      const name = nodes[0]!.name.value;
      const definition = itemFields[name];
      if (!definition) continue;
      const list = candidates[name]!;
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
function itemSelections(selection: Selection): SelectionSetNode[][] {
  const groups = new Map<string, SelectionSetNode[]>();
  const add = (path: string, set: SelectionSetNode) => groups.set(path, [...(groups.get(path) ?? []), set]);
  const keyOf = (field: FieldNode) => field.alias?.value ?? field.name.value;
  for (const node of selection.fieldNodes) {
    collectFields(node.selectionSet, selection, (field) => {
      if (field.name.value === "nodes" && field.selectionSet) add(`nodes:${keyOf(field)}`, field.selectionSet);
      if (field.name.value === "edges") {
        collectFields(field.selectionSet, selection, (edgeField) => {
          if (edgeField.name.value === "node" && edgeField.selectionSet) add(`edges:${keyOf(field)}.${keyOf(edgeField)}`, edgeField.selectionSet);
        });
      }
    });
  }
  return [...groups.values()];
}

/** Visits the fields of a selection set through fragments, leaving out those @skip or @include turn off. */
function collectFields(set: SelectionSetNode | undefined, selection: Selection, visit: (field: FieldNode) => void): void {
  for (const s of set?.selections ?? []) {
    if (!included(s, selection.variableValues)) continue;
    if (s.kind === Kind.FIELD) visit(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) collectFields(s.selectionSet, selection, visit);
    else collectFields(selection.fragments[s.name.value]?.selectionSet, selection, visit);
  }
}

function included(node: Parameters<typeof getDirectiveValues>[1], variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/** The type of a field of a connection type (`nodes`, `edges`). */
function connectionFieldType(type: GraphQLOutputType, field: string): GraphQLOutputType | undefined {
  const named = getNamedType(type);
  return isObjectType(named) ? named.getFields()[field]?.type : undefined;
}

/**
 * Whether the connection field selects `totalCount` (directly or through
 * fragments): counting a long list costs a scan, so it is only done when
 * asked for.
 */
export function selectsTotalCount(selection: Pick<Selection, "fieldNodes" | "fragments">): boolean {
  const visit = (set: SelectionSetNode | undefined): boolean =>
    !!set?.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === "totalCount";
      if (s.kind === Kind.INLINE_FRAGMENT) return visit(s.selectionSet);
      return visit(selection.fragments[s.name.value]?.selectionSet);
    });
  return selection.fieldNodes.some((node) => visit(node.selectionSet));
}
