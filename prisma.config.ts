// Prisma CLI configuration. Prisma 6.19 runs fully on WebAssembly with a
// driver adapter, so nothing is downloaded from outside the npm registry.
import path from "node:path";
import { defineConfig } from "prisma/config";

// The CLI reads env("DATABASE_URL") while parsing the schema, even for
// `generate`; without a value it would try to download a query engine.
process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/postgres";

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  experimental: { adapter: true },
  engine: "js",
  async adapter() {
    const { PrismaPg } = await import("@prisma/adapter-pg");
    return new PrismaPg({ connectionString: process.env.DATABASE_URL });
  },
});
