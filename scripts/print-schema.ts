// `npm run schema`: prints the full schema to schema.graphql and the schema
// each role is served to schemas/<role>.graphql, so schema tools can diff
// them, and the introspection type tests' typed documents are checked against.
// A test fails when a committed file is stale.
import { mkdirSync, writeFileSync } from "node:fs";
import { databaseSettings, setDatabaseSettings } from "../src/config.js";

// The client connects lazily; printing needs no database.
if (databaseSettings().url === undefined) setDatabaseSettings({ url: "postgresql://unused@127.0.0.1:1/unused" });
const { printedSchemas } = await import("../src/schema/printed.js");
for (const [file, text] of Object.entries(printedSchemas())) {
  const url = new URL(`../${file}`, import.meta.url);
  mkdirSync(new URL(".", url), { recursive: true });
  writeFileSync(url, text);
  console.log(`${file} written`);
}
// The tests' typed documents (gql.tada) read the schema from this file.
const { GRAPHQL_ENV_FILE, graphqlEnvText } = await import("../test/helpers/graphqlEnv.js");
writeFileSync(new URL(`../${GRAPHQL_ENV_FILE}`, import.meta.url), graphqlEnvText());
console.log(`${GRAPHQL_ENV_FILE} written`);
