// Typed documents for tests: `graphql(\`query { viewer { role } }\`)` is a
// TadaDocumentNode whose result and variables types come from the schema, so
// `gqlData(doc, …)` returns exactly what the document selects.
import { initGraphQLTada } from "gql.tada";
import type { introspection } from "./graphql-env.js";

export const graphql = initGraphQLTada<{
  introspection: introspection;
  // Custom scalars as they travel in JSON.
  scalars: { DateTime: string; E164: string; EmailAddress: string };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from "gql.tada";
export { readFragment } from "gql.tada";
