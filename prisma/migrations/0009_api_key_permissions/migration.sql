-- Least-privilege keys (DOMAIN.md "Least-privilege keys"): a key may be
-- restricted to a set of permissions. A Prisma list cannot be null, so
-- "restricted" says whether the (possibly empty) list applies. A webhook
-- endpoint made by a key without BILLING_READ sends no prices or costs.
-- CreateEnum
CREATE TYPE "ApiKeyPermission" AS ENUM ('ACCOUNTS_READ', 'ACCOUNTS_WRITE', 'KEYS_WRITE', 'NUMBERS_WRITE', 'BILLING_READ', 'BILLING_WRITE', 'USAGE_WRITE', 'EVENTS_READ', 'WEBHOOKS_WRITE');

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "permissions" "ApiKeyPermission"[] DEFAULT ARRAY[]::"ApiKeyPermission"[],
ADD COLUMN     "restricted" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "webhook_endpoints" ADD COLUMN     "includesBillingData" BOOLEAN NOT NULL DEFAULT true;
