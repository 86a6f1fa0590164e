import { type DocumentNode, type ExecutionArgs, type GraphQLSchema, Kind, valueFromASTUntyped } from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import type { Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";

// Executes operations with graphql-jit: each (schema, document, operation)
// is compiled once into a function that walks the result without
// graphql-js's generic per-field machinery. For the account tree (about
// 2000 fields for 250 sub-accounts with their numbers) execution costs a
// fraction of graphql-js's (docs/benchmarks.md).
//
// Compiled queries are cached per schema: each role has its own schema
// (schema/roleSchemas.ts), and a query compiled against one role's schema
// must never run for another role. Documents come from Yoga's parse cache,
// so the same operation text is the same DocumentNode.

/** Distinct operations kept compiled per schema. */
const OPERATIONS_PER_SCHEMA = 1000;

type Compiled = CompiledQuery<unknown, Record<string, unknown>> & {
  /** The operation's variable defaults, as a client would send them. */
  defaults: [name: string, value: unknown][];
};

/**
 * graphql-jit's variable coercion leaves a non-null variable with a default
 * (`$first: Int! = 5`) unset when the request omits it, and then refuses it
 * as "not provided", where the GraphQL spec (and graphql-js) use the
 * default. So an omitted variable that has a default is given that default
 * in its input form before the compiled function coerces it, for every
 * variable alike. Defaults are constants (no variables inside), so this is
 * exactly the value graphql-js would use; the argument rules
 * (schema/argumentRules.ts) judged the same value before execution.
 */
function variableDefaults(document: DocumentNode, operationName: string | undefined): [string, unknown][] {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (operationName === undefined || d.name?.value === operationName));
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  return (operation.variableDefinitions ?? [])
    .filter((d) => d.defaultValue !== undefined)
    .map((d) => [d.variable.name.value, valueFromASTUntyped(d.defaultValue!)]);
}

function withDefaults(variables: Record<string, unknown>, defaults: Compiled["defaults"]): Record<string, unknown> {
  if (!defaults.length) return variables;
  const filled = { ...variables };
  for (const [name, value] of defaults) if (!Object.hasOwn(filled, name)) filled[name] = value;
  return filled;
}

export function useCompiledExecution(): Plugin {
  const compiledBySchema = new WeakMap<GraphQLSchema, LRUCache<DocumentNode, Map<string, Compiled | Error>>>();

  function compiled(args: ExecutionArgs): Compiled | Error {
    let documents = compiledBySchema.get(args.schema);
    if (!documents) {
      documents = new LRUCache({ max: OPERATIONS_PER_SCHEMA });
      compiledBySchema.set(args.schema, documents);
    }
    let operations = documents.get(args.document);
    if (!operations) {
      operations = new Map();
      documents.set(args.document, operations);
    }
    const name = args.operationName ?? "";
    let entry = operations.get(name);
    if (!entry) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined, { customSerializers: storedValueSerializers(args.schema) });
      entry = isCompiledQuery(result)
        ? Object.assign(result as CompiledQuery<unknown, Record<string, unknown>>, {
            defaults: variableDefaults(args.document, args.operationName ?? undefined),
          })
        : new Error("operation could not be compiled");
      operations.set(name, entry);
    }
    return entry;
  }

  return {
    onExecute({ args, setExecuteFn }) {
      // Subscriptions do not exist here; anything that does not compile
      // (it would not have passed validation) runs on the default executor.
      const entry = compiled(args);
      if (entry instanceof Error) return;
      setExecuteFn(((execArgs: ExecutionArgs) =>
        entry.query(
          execArgs.rootValue,
          execArgs.contextValue,
          withDefaults((execArgs.variableValues ?? {}) as Record<string, unknown>, entry.defaults),
        )) as never);
    },
  };
}

/**
 * Output serializers for scalars whose values the gateway only ever reads
 * back from its own rows, where they were checked on the way in: a string is
 * already its serialized form, so a stored email or E.164 number is not
 * matched against its pattern again for every row of every list. Anything
 * else still goes through the scalar's own serializer (and its errors).
 */
function storedValueSerializers(schema: GraphQLSchema): Record<string, (value: unknown) => unknown> {
  const serializers: Record<string, (value: unknown) => unknown> = {};
  for (const name of ["EmailAddress", "E164"]) {
    const type = schema.getType(name);
    if (!type || !("serialize" in type)) continue;
    const serialize = type.serialize.bind(type);
    serializers[name] = (value) => (typeof value === "string" ? value : serialize(value));
  }
  return serializers;
}
