-- Emails are unique within a tree only (DOMAIN.md "Lifecycle"): a
-- sub-account's email differs from its siblings' and its manager's, and
-- managers' emails differ from each other's. Another tree's emails are not
-- this tree's business, so creating an account never answers whether some
-- other tree holds an email. Prisma cannot express either index (a partial
-- one, one on an expression); prisma/schema.prisma says so where the field is.
DROP INDEX IF EXISTS "accounts_email_key";
CREATE UNIQUE INDEX "accounts_manager_email_key" ON "accounts" ("email") WHERE "kind" = 'MANAGER';
CREATE UNIQUE INDEX "accounts_tree_email_key" ON "accounts" ((COALESCE("managerId", "id")), "email");

-- Idempotency keys are scoped to the caller too (the authenticated account,
-- or 'operator'): a sub-account can never take, replay or collide with a key
-- its manager used on it, nor the other way round. Keys written before this
-- migration are given the account they were scoped to as their caller.
ALTER TABLE "idempotency_keys" ADD COLUMN "caller" TEXT;
UPDATE "idempotency_keys" SET "caller" = "accountId"::text;
ALTER TABLE "idempotency_keys" ALTER COLUMN "caller" SET NOT NULL;
ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_pkey";
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("caller", "accountId", "operation", "key");
-- The account's keys are still found (and purged) by account.
CREATE INDEX "idempotency_keys_accountId_idx" ON "idempotency_keys" ("accountId");

-- A usage record's key is the key its caller gave: two callers' keys may be
-- the same string. Once-only is the idempotency_keys primary key's job.
DROP INDEX IF EXISTS "usage_records_accountId_idempotencyKey_key";
