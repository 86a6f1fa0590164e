// Prints the schema to schema.graphql (`npm run schema`). A test fails when the
// committed file is stale.
import { writeFileSync } from "node:fs";
import { printSchema } from "graphql";

process.env.DATABASE_URL ??= "postgresql://unused@127.0.0.1:1/unused"; // the client connects lazily; printing needs no database
const { schema } = await import("../src/schema/index.js");
writeFileSync(new URL("../schema.graphql", import.meta.url), printSchema(schema) + "\n");
console.log("schema.graphql written");
