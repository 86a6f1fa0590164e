import {
  GraphQLError,
  getArgumentValues,
  TypeInfo,
  getNamedType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from "graphql";
import { parsePrismaCursor } from "@pothos/plugin-prisma";
import type { Plugin } from "graphql-yoga";

/** Page sizes every connection accepts (DOMAIN.md: Listing). */
export const PAGE_SIZE = { min: 1, max: 250 } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isOurCursor(cursor: string): boolean {
  try {
    const value = parsePrismaCursor(cursor);
    return typeof value === "string" && UUID.test(value);
  } catch {
    return false;
  }
}

/** Problems with the arguments of one field: the page-size and cursor rules of every connection, plus the field's own rule. */
function checkField(fieldName: string, returnTypeName: string, args: Record<string, any>, ownRule?: (args: any) => string[]): string[] {
  const problems: string[] = [];
  if (returnTypeName.endsWith("Connection")) {
    for (const name of ["first", "last"] as const) {
      const value = args[name];
      if (value != null && (value < PAGE_SIZE.min || value > PAGE_SIZE.max)) {
        problems.push(`${fieldName}: \`${name}\` must be from ${PAGE_SIZE.min} to ${PAGE_SIZE.max}, got ${value}`);
      }
    }
    if (args.last != null && args.first != null) problems.push(`${fieldName}: give \`first\` or \`last\`, not both`);
    for (const name of ["after", "before"] as const) {
      if (args[name] != null && !isOurCursor(args[name])) problems.push(`${fieldName}: \`${name}\` is not a cursor of this API`);
    }
  }
  if (ownRule) problems.push(...ownRule(args).map((p) => `${fieldName}: ${p}`));
  return problems;
}

/**
 * Checks argument rules for the whole operation before execution starts, so
 * a bad page size, foreign cursor or short `contains` is a BAD_USER_INPUT
 * error that runs no SQL, never a silent clamp. Fields declare their own
 * rule as `extensions.validateArgs(args) => string[]`.
 */
export function findArgumentProblems(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>): string[] {
  const typeInfo = new TypeInfo(schema);
  const problems: string[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const fieldDef = typeInfo.getFieldDef();
        if (!fieldDef) return;
        const ownRule = fieldDef.extensions?.validateArgs as ((args: unknown) => string[]) | undefined;
        const returnTypeName = getNamedType(fieldDef.type).name;
        if (!ownRule && !returnTypeName.endsWith("Connection")) return;
        let args: Record<string, unknown>;
        try {
          args = getArgumentValues(fieldDef, node, variables);
        } catch {
          return; // coercion problems are reported by graphql-js itself
        }
        problems.push(...checkField(node.alias?.value ?? node.name.value, returnTypeName, args, ownRule));
      },
    }),
  );
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

export function useArgumentRules(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const done = {
        onExecuteDone({ result, setResult }: { result: any; setResult: (r: any) => void }) {
          if (!("errors" in result) || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map(withInputCode) });
        },
      };
      const problems = findArgumentProblems(args.schema, args.document, (args.variableValues ?? {}) as Record<string, unknown>);
      if (problems.length) {
        setResultAndStopExecution({
          errors: problems.map((message) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } })),
        });
      }
      return done;
    },
  };
}
