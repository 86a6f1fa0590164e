// The one walk over a document's selections. The argument rules (which judge
// every field the operation may resolve), the read path's column narrowing
// and its read-along of nested lists (src/read/) all need "the fields this
// selection set selects"; each used to walk the document itself, and they
// disagreed about @skip/@include and fragments' type conditions. They now
// agree with the executor because they share its rules, here:
// - a selection that @skip(if: true) or @include(if: false) turns off
//   (on the coerced variables) is left out, with everything below it;
// - inline fragments and named fragment spreads are walked in place;
// - a fragment's fields are selected on its type condition; on a concrete
//   object type, a fragment whose condition cannot apply to it (`... on
//   Manager` inside a SubAccount) is left out, as graphql-js' collectFields
//   does; on an abstract type every fragment may apply, so each is walked
//   on its own condition's type.
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  GraphQLIncludeDirective,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getDirectiveValues,
  getNamedType,
  type InlineFragmentNode,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";

/** What a walk needs of the request: the schema, the document's fragments and the coerced variables. */
export interface SelectionScope {
  schema: GraphQLSchema;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  variableValues: Readonly<Record<string, unknown>>;
}

/** A field where it appears in the document (a resolver's info has all of it): its nodes, its type, and the request's scope. */
export interface FieldSelection extends SelectionScope {
  fieldNodes: readonly FieldNode[];
  returnType: GraphQLOutputType;
}

/** The named type of field `name` of `type`, when it is an object, interface or union type. */
export function compositeFieldType(type: GraphQLNamedType | undefined, name: string): GraphQLCompositeType | undefined {
  if (!isObjectType(type) && !isInterfaceType(type)) return undefined;
  const named = getNamedType(type.getFields()[name]?.type);
  return named && isCompositeType(named) ? named : undefined;
}

/** Fragments nest at most this deep in a walk; validation refuses cycles, this only bounds a walk that runs before it. */
const MAX_FRAGMENT_NESTING = 64;

/**
 * Calls `visit` for each field that `selectionSet` selects on `parentType`,
 * through fragments, with the type it is selected on. Fields are visited in
 * document order; a field selected twice (merged by the executor) is visited
 * twice.
 */
export function forEachSelectedField(
  scope: SelectionScope,
  selectionSet: SelectionSetNode | undefined,
  parentType: GraphQLCompositeType,
  visit: (field: FieldNode, parentType: GraphQLCompositeType) => void,
  nesting = 0,
): void {
  if (!selectionSet || nesting > MAX_FRAGMENT_NESTING) return;
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection, scope.variableValues)) continue;
    if (selection.kind === Kind.FIELD) {
      visit(selection, parentType);
      continue;
    }
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : scope.fragments[selection.name.value];
    if (!fragment) continue;
    const type = fragmentType(scope.schema, fragment, parentType);
    if (type) forEachSelectedField(scope, fragment.selectionSet, type, visit, nesting + 1);
  }
}

/** The fields selected on `parentType` by several selection sets (one field's nodes, merged by the executor). */
export function selectedFields(
  scope: SelectionScope,
  selectionSets: readonly (SelectionSetNode | undefined)[],
  parentType: GraphQLCompositeType,
): { field: FieldNode; parentType: GraphQLCompositeType }[] {
  const fields: { field: FieldNode; parentType: GraphQLCompositeType }[] = [];
  for (const set of selectionSets) forEachSelectedField(scope, set, parentType, (field, type) => fields.push({ field, parentType: type }));
  return fields;
}

/** The response key of a field: its alias, or its name. */
export const responseKey = (field: FieldNode): string => field.alias?.value ?? field.name.value;

/** Whether @skip and @include leave a selection in, given the coerced variables. */
function isIncluded(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, variables: Readonly<Record<string, unknown>>): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/** The type a fragment's fields are selected on, or undefined when it cannot apply at `parentType`. */
function fragmentType(
  schema: GraphQLSchema,
  fragment: InlineFragmentNode | FragmentDefinitionNode,
  parentType: GraphQLCompositeType,
): GraphQLCompositeType | undefined {
  if (!fragment.typeCondition) return parentType;
  const condition = schema.getType(fragment.typeCondition.name.value);
  if (!condition || !isCompositeType(condition)) return undefined;
  if (condition === parentType) return condition;
  if (isObjectType(parentType)) {
    // On a concrete object only its own type or an abstract type it belongs to applies.
    return isAbstractType(condition) && schema.isSubType(condition, parentType) ? parentType : undefined;
  }
  // On an abstract type, any fragment may apply to some object at run time.
  return condition;
}
