import { parsePrismaCursor } from "@pothos/plugin-prisma";
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import { effectivePage, PAGE_SIZE } from "../domain/paging.js";
import { unstorableTextIn } from "../domain/text.js";
import { forEachSelectedField, responseKey } from "../read/selections.js";
import { UUID_PATTERN } from "./globalIds.js";
import { reachableIds } from "./node.js";
import { audienceOf, hiddenError, hiddenFromRole, type SchemaSelector } from "./roleSchemas.js";

// Every rule on an argument is judged here, once per operation, on the
// values the resolvers will really receive: the variables coerced the way
// the executor coerces them (defaults written in the document included),
// then each field's arguments as graphql-js computes them from those. A
// value is the same whether it arrives as a literal, a request variable or
// a variable's default, so no form can slip past a rule (DOMAIN.md: "Values
// however they arrive").

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

/** The row id a cursor of ours names, or undefined for anything else. */
function cursorRowId(cursor: string): string | undefined {
  try {
    const value = parsePrismaCursor(cursor);
    return typeof value === "string" && UUID_PATTERN.test(value) ? value : undefined;
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

const isConnectionField = (field: GraphQLField<unknown, unknown>) => getNamedType(field.type).name.endsWith("Connection");

/**
 * Whether the operation gave `first` itself (a literal, or a variable that
 * has a value) rather than leaving it to the schema's default of 20. Relay
 * clients page backwards with `last` (and `before`) alone; the default of
 * `first` must then step aside instead of clashing with them.
 */
function givesFirst(node: FieldNode, variables: Record<string, unknown>): boolean {
  const arg = node.arguments?.find((a) => a.name.value === "first");
  if (!arg) return false;
  if (arg.value.kind === Kind.VARIABLE) return variables[arg.value.name.value] != null;
  return arg.value.kind !== Kind.NULL;
}

/**
 * The page-size and cursor rules of every connection, the text rule of every
 * argument (DOMAIN.md: text must be well-formed; mutations answer it with a
 * typed ValidationError instead, schema/mutation.ts), and the field's own
 * rule (`extensions.validateArgs`).
 */
function checkField(
  label: string,
  field: GraphQLField<unknown, unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: graphql-js types coerced arguments as any; the schema decided their shapes
  args: Record<string, any>,
  firstGiven: boolean,
  cursors: CursorUse[],
  checkText: boolean,
): string[] {
  const problems: string[] = [];
  if (checkText) {
    const text = unstorableTextIn(args);
    if (text.length) return text.map((p) => `${label}: \`${p.path.join(".")}\` ${p.message}`);
  }
  if (isConnectionField(field)) {
    for (const name of ["first", "last"] as const) {
      const value = args[name];
      if (value != null && (value < PAGE_SIZE.min || value > PAGE_SIZE.max)) {
        problems.push(`${label}: \`${name}\` must be from ${PAGE_SIZE.min} to ${PAGE_SIZE.max}, got ${value}`);
      }
    }
    // A page walks one way from one cursor: forwards (`first`, `after`) or backwards (`last`, `before`).
    if (firstGiven && args.last != null) problems.push(`${label}: give \`first\` or \`last\`, not both`);
    if (args.after != null && args.before != null) problems.push(`${label}: give \`after\` or \`before\`, not both`);
    if (firstGiven && args.before != null) problems.push(`${label}: \`before\` pages with \`last\`, not \`first\``);
    if (args.last != null && args.after != null) problems.push(`${label}: \`after\` pages with \`first\`, not \`last\``);
    const typename = getNamedType(field.type).name.slice(0, -"Connection".length);
    for (const name of ["after", "before"] as const) {
      if (args[name] == null) continue;
      const rowId = cursorRowId(args[name]);
      if (!rowId) problems.push(notOurCursor(label, name));
      else cursors.push({ label: `${label}: \`${name}\``, typename, rowId });
    }
  }
  const ownRule = field.extensions?.validateArgs as ((args: unknown) => string[]) | undefined;
  if (ownRule) problems.push(...ownRule(args).map((p) => `${label}: ${p}`));
  return problems;
}

/** How many items a field may return per parent: a page size for connections, the id count for `nodes`. */
// biome-ignore lint/suspicious/noExplicitAny: graphql-js types coerced arguments as any; the schema decided their shapes
function fanOut(field: GraphQLField<unknown, unknown>, args: Record<string, any>, firstGiven: boolean): number {
  if (isConnectionField(field)) {
    const page = effectivePage(args, firstGiven);
    const size = page.first ?? page.last ?? PAGE_SIZE.default;
    return Math.min(Math.max(Number(size) || 0, 0), PAGE_SIZE.max);
  }
  if (Array.isArray(args.ids)) return args.ids.length;
  return 1;
}

export interface OperationAnalysis {
  /** Variables that do not fit their types, as graphql-js words them (with the path inside the variable). */
  variableErrors: readonly GraphQLError[];
  problems: string[];
  cost: number;
  cursors: CursorUse[];
}

/**
 * Walks the operation that will run (fragments included, in place) with its
 * coerced variables and returns every argument problem and the operation's
 * cost: one point per object it may return, multiplied by the page sizes
 * above it.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown>,
): OperationAnalysis {
  const operation = getOperationAST(document, operationName);
  const analysis: OperationAnalysis = { variableErrors: [], problems: [], cost: 0, cursors: [] };
  if (!operation) return analysis;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 20 });
  if (coerced.errors) return { ...analysis, variableErrors: coerced.errors };
  const variables = coerced.coerced;
  const { problems, cursors } = analysis;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  // The fields the executor will resolve: @skip/@include and fragments as it applies them (read/selections.ts).
  const scope = { schema, fragments, variableValues: variables };

  const walk = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, multiplier: number, depth: number) => {
    if (depth > 64) return; // armor's depth limit refuses such operations; this only guards the walk
    forEachSelectedField(scope, selectionSet, parentType, (selection, onType) => {
      if (!isObjectType(onType) && !isInterfaceType(onType)) return;
      const field = onType.getFields()[selection.name.value];
      if (!field) return;
      let args: Record<string, unknown>;
      try {
        args = getArgumentValues(field, selection, variables);
      } catch (error) {
        problems.push((error as Error).message);
        return;
      }
      const firstGiven = givesFirst(selection, variables);
      const mutationRoot = depth === 0 && operation.operation === "mutation";
      problems.push(...checkField(responseKey(selection), field, args, firstGiven, cursors, !mutationRoot));
      const type = getNamedType(field.type);
      if (selection.selectionSet && isCompositeType(type)) {
        analysis.cost += multiplier;
        const listy = isListType(getNullableType(field.type));
        walk(selection.selectionSet, type, multiplier * (listy && !Array.isArray(args.ids) ? 1 : fanOut(field, args, firstGiven)), depth + 1);
      }
    });
  };
  const root = schema.getRootType(operation.operation);
  if (root) walk(operation.selectionSet, root, 1, 0);
  return analysis;
}

const notOurCursor = (label: string, name: string) => `${label}: \`${name}\` is not a cursor of this list`;

/**
 * A cursor is only good if it names a row the caller can reach in that kind
 * of list (the row `node` would return to it): paging from any other row
 * would place the page around a row out of reach, telling the caller that it
 * exists (and where it sorts). Such a cursor gets the same BAD_USER_INPUT as
 * a made-up one.
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

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });

/** graphql-js words a variable error well but gives it no code: BAD_USER_INPUT, and nothing else of the error object. */
function withInputCode(error: GraphQLError): GraphQLError {
  if (error.path || error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: "BAD_USER_INPUT" },
  });
}

/**
 * Checks variables, argument rules and cost for the whole operation before
 * execution starts, so a bad page size, a foreign cursor, a short `contains`,
 * ill-formed text or an overly expensive query is a clear error that runs no
 * SQL, never a silent clamp or an unexpected error in a resolver.
 */
export function useArgumentRules(selector: SchemaSelector): Plugin {
  /** A variable that sets an input field the caller's schema does not have gets that FORBIDDEN error, as a literal would. */
  const variableError = (error: GraphQLError, context: Context) => {
    const hidden = hiddenFromRole(selector.full, error.message);
    return hidden ? hiddenError(hidden, error, selector, audienceOf(context.viewer)) : withInputCode(error);
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const { variableErrors, problems, cost, cursors } = analyzeOperation(
        args.schema,
        args.document,
        args.operationName,
        (args.variableValues ?? {}) as Record<string, unknown>,
      );
      if (variableErrors.length) {
        setResultAndStopExecution({ errors: variableErrors.map((error) => variableError(error, args.contextValue as unknown as Context)) });
        return;
      }
      if (!problems.length && cost <= QUERY_LIMITS.maxCost && cursors.length) {
        problems.push(...(await unreachableCursors(cursors, args.contextValue as unknown as Context)));
      }
      if (problems.length) {
        setResultAndStopExecution({ errors: problems.map(badInput) });
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
