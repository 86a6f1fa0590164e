-- Usage reports (src/read/usageReport.ts) aggregate each account's records by
-- occurredAt. With the product, quantity and cost in the index they read no
-- heap pages (index-only scans, once autovacuum has set the visibility map).
-- Prisma cannot express INCLUDE columns: test/db/migrationsDrift.test.ts
-- allows the difference and pins the index as built here.
DROP INDEX IF EXISTS "usage_records_accountId_occurredAt_id_idx";
CREATE INDEX "usage_records_accountId_occurredAt_id_idx" ON "usage_records" ("accountId", "occurredAt" DESC, "id" DESC) INCLUDE ("product", "quantity", "costMicros");
