-- The tree's lists read as index-only scans (docs/benchmarks.md): the page
-- of an account's phone numbers needs their status and number, and the count
-- of a manager's sub-accounts their status. The same indexes as before (same
-- names and keys, so Prisma's schema still describes them), now covering
-- those columns too; the heap is not visited for them. Plain CREATE INDEX
-- (migrations run in a transaction): writes to these tables wait while it
-- builds, seconds for a million rows.
DROP INDEX IF EXISTS "phone_numbers_accountId_createdAt_id_idx";
CREATE INDEX "phone_numbers_accountId_createdAt_id_idx" ON "phone_numbers" ("accountId", "createdAt" DESC, "id" DESC) INCLUDE ("status", "number");

DROP INDEX IF EXISTS "accounts_managerId_createdAt_id_idx";
CREATE INDEX "accounts_managerId_createdAt_id_idx" ON "accounts" ("managerId", "createdAt" DESC, "id" DESC) INCLUDE ("status");
