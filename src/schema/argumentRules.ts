import {
  GraphQLError,
  Kind,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import { parsePrismaCursor } from "@pothos/plugin-prisma";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import { reachableIds } from "./node.js";

/** Page sizes every connection accepts (DOMAIN.md: Listing). */
export const PAGE_SIZE = { min: 1, max: 250, default: 20 } as const;

/**
 * Limits on a single operation. A Relay tree of viewer -> 250 sub-accounts ->
 * 20 phone numbers and 20 API keys each (with edges/node) fits with room to
 * spare; README "Query limits" explains each.
 */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 5000,
  maxDirectives: 20,
  /** One point per object a query may return, page sizes multiplied in. */
  maxCost: 25_000,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The row id a cursor of ours names, or undefined for anything else. */
function cursorRowId(cursor: string): string | undefined {
  try {
    const value = parsePrismaCursor(cursor);
    return typeof value === "string" && UUID.test(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A cursor in the operation: which list type it pages, and the row it names. */
interface CursorUse {
  label: string;
  /** The node type the connection lists, e.g. "SubAccount" for SubAccountConnection. */
  typename: string;
  rowId: string;
}

/** The page-size and cursor rules of every connection, plus the field's own rule (`extensions.validateArgs`). */
function checkField(label: string, field: GraphQLField<unknown, unknown>, args: Record<string, any>, cursors: CursorUse[]): string[] {
  const problems: string[] = [];
  const typeName = getNamedType(field.type).name;
  if (typeName.endsWith("Connection")) {
    for (const name of ["first", "last"] as const) {
      const value = args[name];
      if (value != null && (value < PAGE_SIZE.min || value > PAGE_SIZE.max)) {
        problems.push(`${label}: \`${name}\` must be from ${PAGE_SIZE.min} to ${PAGE_SIZE.max}, got ${value}`);
      }
    }
    if (args.last != null && args.first != null) problems.push(`${label}: give \`first\` or \`last\`, not both`);
    // A page walks one way from one cursor: forwards (`first`, `after`) or backwards (`last`, `before`).
    if (args.after != null && args.before != null) problems.push(`${label}: give \`after\` or \`before\`, not both`);
    // \`first\` defaults to 20: paging backwards takes \`first: null\`, as \`last\` does.
    if (args.first != null && args.before != null) problems.push(`${label}: \`before\` pages with \`last\` (and \`first: null\`), not \`first\``);
    if (args.last != null && args.after != null) problems.push(`${label}: \`after\` pages with \`first\`, not \`last\``);
    for (const name of ["after", "before"] as const) {
      if (args[name] == null) continue;
      const rowId = cursorRowId(args[name]);
      if (!rowId) problems.push(notOurCursor(label, name));
      else cursors.push({ label: `${label}: \`${name}\``, typename: typeName.slice(0, -"Connection".length), rowId });
    }
  }
  const ownRule = field.extensions?.validateArgs as ((args: unknown) => string[]) | undefined;
  if (ownRule) problems.push(...ownRule(args).map((p) => `${label}: ${p}`));
  return problems;
}

/** How many items a field may return per parent: a page size for connections, the id count for `nodes`. */
function fanOut(field: GraphQLField<unknown, unknown>, args: Record<string, any>): number {
  if (getNamedType(field.type).name.endsWith("Connection")) {
    const size = args.first ?? args.last ?? PAGE_SIZE.default;
    return Math.min(Math.max(Number(size) || 0, 0), PAGE_SIZE.max);
  }
  if (Array.isArray(args.ids)) return args.ids.length;
  return 1;
}

/**
 * Walks the operation that will run (fragments included, in place) and
 * returns every argument problem and the operation's cost: one point per
 * object it may return, multiplied by the page sizes above it.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): { problems: string[]; cost: number; cursors: CursorUse[] } {
  const operation = getOperationAST(document, operationName);
  const problems: string[] = [];
  const cursors: CursorUse[] = [];
  let cost = 0;
  if (!operation) return { problems, cost, cursors };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const walk = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, multiplier: number, depth: number) => {
    if (depth > 64) return; // armor's depth limit refuses such operations; this only guards the walk
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!isObjectType(parentType) && !isInterfaceType(parentType)) continue;
        const field = parentType.getFields()[selection.name.value];
        if (!field) continue;
        let args: Record<string, unknown> = {};
        try {
          args = getArgumentValues(field, selection, variables);
        } catch {
          continue; // graphql-js reports coercion problems itself
        }
        problems.push(...checkField(selection.alias?.value ?? selection.name.value, field, args, cursors));
        const type = getNamedType(field.type);
        if (selection.selectionSet && isCompositeType(type)) {
          cost += multiplier;
          const listy = isListType(getNullableType(field.type));
          walk(selection.selectionSet, type, multiplier * (listy && !Array.isArray(args.ids) ? 1 : fanOut(field, args)), depth + 1);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        if (type && isCompositeType(type)) walk(selection.selectionSet, type, multiplier, depth + 1);
      } else {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && type && isCompositeType(type)) walk(fragment.selectionSet, type, multiplier, depth + 1);
      }
    }
  };
  const root = schema.getRootType(operation.operation);
  if (root) walk(operation.selectionSet, root, 1, 0);
  return { problems, cost, cursors };
}

const notOurCursor = (label: string, name: string) => `${label}: \`${name}\` is not a cursor of this list`;

/**
 * A cursor is only good if it names a row the caller can reach in that kind
 * of list: paging from any other row would place the page around a row out
 * of reach, telling the caller that it exists (and roughly when it was
 * created). Such a cursor gets the same BAD_USER_INPUT as a made-up one.
 */
async function unreachableCursors(cursors: CursorUse[], context: Context): Promise<string[]> {
  const byType = new Map<string, CursorUse[]>();
  for (const use of cursors) byType.set(use.typename, [...(byType.get(use.typename) ?? []), use]);
  const problems: string[] = [];
  for (const [typename, uses] of byType) {
    const reachable = await reachableIds(typename, [...new Set(uses.map((u) => u.rowId))], context.viewer);
    for (const use of uses) if (!reachable?.has(use.rowId)) problems.push(`${use.label} is not a cursor of this list`);
  }
  return problems;
}

/**
 * graphql-js reports a variable that fails its type (an invalid email, a
 * string for an Int) without a code; give such request errors BAD_USER_INPUT.
 */
function withInputCode(error: GraphQLError): GraphQLError {
  if (error.path || error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: "BAD_USER_INPUT" },
  });
}

/**
 * Checks argument rules and cost for the whole operation before execution
 * starts, so a bad page size, a foreign cursor, a short `contains` or an
 * overly expensive query is a clear error that runs no SQL, never a silent
 * clamp.
 */
export function useArgumentRules(): Plugin {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const { problems, cost, cursors } = analyzeOperation(
        args.schema,
        args.document,
        args.operationName,
        (args.variableValues ?? {}) as Record<string, unknown>,
      );
      if (!problems.length && cost <= QUERY_LIMITS.maxCost && cursors.length) {
        problems.push(...(await unreachableCursors(cursors, args.contextValue as unknown as Context)));
      }
      if (problems.length) {
        setResultAndStopExecution({
          errors: problems.map((message) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } })),
        });
      } else if (cost > QUERY_LIMITS.maxCost) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `Query is too expensive: it may return ${cost} objects (page sizes multiplied), the limit is ${QUERY_LIMITS.maxCost}. Ask for smaller pages.`,
              { extensions: { code: "QUERY_TOO_COMPLEX", cost, maxCost: QUERY_LIMITS.maxCost } },
            ),
          ],
        });
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (!("errors" in result) || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map(withInputCode) });
        },
      };
    },
  };
}
