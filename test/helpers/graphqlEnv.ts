// The full schema as a gql.tada introspection type, so tests' documents are
// typed from the schema itself: a field that does not exist fails `tsc`, and a
// result's shape is the shape the document asks for. `npm run schema` writes
// test/helpers/graphql-env.d.ts from this; test/schema.test.ts fails when it
// is stale.
import { minifyIntrospection, outputIntrospectionFile } from "@gql.tada/internal";
import { introspectionFromSchema, lexicographicSortSchema } from "graphql";
import { schema } from "../../src/schema/index.js";

export const GRAPHQL_ENV_FILE = "test/helpers/graphql-env.d.ts";

export function graphqlEnvText(): string {
  const introspection = introspectionFromSchema(lexicographicSortSchema(schema), { descriptions: false });
  return outputIntrospectionFile(minifyIntrospection(introspection), { fileType: ".d.ts", shouldPreprocess: true });
}
