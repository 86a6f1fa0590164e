-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "AccountKind" AS ENUM ('MANAGER', 'SUB_ACCOUNT');

-- CreateEnum
CREATE TYPE "AccountStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'CLOSED');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('OPERATOR', 'MANAGER', 'SUB_ACCOUNT');

-- CreateEnum
CREATE TYPE "PhoneNumberStatus" AS ENUM ('ACTIVE', 'RELEASED');

-- CreateEnum
CREATE TYPE "Product" AS ENUM ('SMS_OUTBOUND', 'SMS_INBOUND', 'MMS_OUTBOUND', 'VOICE_OUTBOUND_MINUTE', 'VOICE_INBOUND_MINUTE', 'PHONE_NUMBER_MONTHLY');

-- CreateEnum
CREATE TYPE "LedgerEntryKind" AS ENUM ('TOP_UP', 'CHARGE', 'TRANSFER_IN', 'TRANSFER_OUT', 'ADJUSTMENT');

-- CreateTable
CREATE TABLE "accounts" (
    "id" UUID NOT NULL,
    "kind" "AccountKind" NOT NULL,
    "managerId" UUID,
    "email" TEXT NOT NULL,
    "organizationName" TEXT,
    "status" "AccountStatus" NOT NULL DEFAULT 'ACTIVE',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "suspendedAt" TIMESTAMPTZ(3),
    "closedAt" TIMESTAMPTZ(3),
    "subAccountLimit" INTEGER NOT NULL DEFAULT 1000,
    "autoDeleteClosedSubAccounts" BOOLEAN NOT NULL DEFAULT true,
    "rollupBilling" BOOLEAN NOT NULL DEFAULT false,
    "allowCustomPricing" BOOLEAN NOT NULL DEFAULT false,
    "creditLimitMicros" BIGINT,
    "totalSpentMicros" BIGINT NOT NULL DEFAULT 0,
    "balanceMicros" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "phone_numbers" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "activeNumber" TEXT,
    "status" "PhoneNumberStatus" NOT NULL DEFAULT 'ACTIVE',
    "friendlyName" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" TIMESTAMPTZ(3),

    CONSTRAINT "phone_numbers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "platform_rates" (
    "product" "Product" NOT NULL,
    "unitPriceMicros" BIGINT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "platform_rates_pkey" PRIMARY KEY ("product")
);

-- CreateTable
CREATE TABLE "account_rates" (
    "accountId" UUID NOT NULL,
    "product" "Product" NOT NULL,
    "unitPriceMicros" BIGINT NOT NULL,

    CONSTRAINT "account_rates_pkey" PRIMARY KEY ("accountId","product")
);

-- CreateTable
CREATE TABLE "usage_records" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "product" "Product" NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unitPriceMicros" BIGINT NOT NULL,
    "costMicros" BIGINT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" UUID NOT NULL,
    "balanceAccountId" UUID NOT NULL,
    "causedByAccountId" UUID,
    "kind" "LedgerEntryKind" NOT NULL,
    "amountMicros" BIGINT NOT NULL,
    "balanceAfterMicros" BIGINT NOT NULL,
    "usageRecordId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "top_ups" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "top_ups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "accountId" UUID NOT NULL,
    "operation" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "result" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("accountId","operation","key")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "actorRole" "Role" NOT NULL,
    "actorApiKeyPrefix" TEXT,
    "accountId" UUID,
    "treeManagerId" UUID,
    "details" JSONB,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_email_key" ON "accounts"("email");

-- CreateIndex
CREATE INDEX "accounts_managerId_createdAt_id_idx" ON "accounts"("managerId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "accounts_managerId_email_idx" ON "accounts"("managerId", "email");

-- CreateIndex
CREATE INDEX "accounts_kind_createdAt_idx" ON "accounts"("kind", "createdAt");

-- CreateIndex
CREATE INDEX "accounts_status_closedAt_idx" ON "accounts"("status", "closedAt");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_secretHash_key" ON "api_keys"("secretHash");

-- CreateIndex
CREATE INDEX "api_keys_accountId_createdAt_id_idx" ON "api_keys"("accountId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "phone_numbers_activeNumber_key" ON "phone_numbers"("activeNumber");

-- CreateIndex
CREATE INDEX "phone_numbers_accountId_createdAt_id_idx" ON "phone_numbers"("accountId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "phone_numbers_number_idx" ON "phone_numbers"("number");

-- CreateIndex
CREATE INDEX "usage_records_accountId_occurredAt_id_idx" ON "usage_records"("accountId", "occurredAt" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "usage_records_accountId_idempotencyKey_key" ON "usage_records"("accountId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_usageRecordId_key" ON "ledger_entries"("usageRecordId");

-- CreateIndex
CREATE INDEX "ledger_entries_balanceAccountId_createdAt_id_idx" ON "ledger_entries"("balanceAccountId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "ledger_entries_causedByAccountId_createdAt_idx" ON "ledger_entries"("causedByAccountId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "top_ups_accountId_createdAt_idx" ON "top_ups"("accountId", "createdAt");

-- CreateIndex
CREATE INDEX "audit_events_accountId_occurredAt_id_idx" ON "audit_events"("accountId", "occurredAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_treeManagerId_occurredAt_id_idx" ON "audit_events"("treeManagerId", "occurredAt" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_managerId_fkey" FOREIGN KEY ("managerId") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "phone_numbers" ADD CONSTRAINT "phone_numbers_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_rates" ADD CONSTRAINT "account_rates_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_balanceAccountId_fkey" FOREIGN KEY ("balanceAccountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_causedByAccountId_fkey" FOREIGN KEY ("causedByAccountId") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_usageRecordId_fkey" FOREIGN KEY ("usageRecordId") REFERENCES "usage_records"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "top_ups" ADD CONSTRAINT "top_ups_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_treeManagerId_fkey" FOREIGN KEY ("treeManagerId") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Rules the database enforces itself, beyond what Prisma's schema language
-- can say: they hold whatever code path (or concurrent request) writes.
ALTER TABLE "accounts"
  ADD CONSTRAINT "accounts_email_lowercase" CHECK ("email" = lower("email")),
  ADD CONSTRAINT "accounts_tree_shape" CHECK (("kind" = 'MANAGER') = ("managerId" IS NULL)),
  ADD CONSTRAINT "accounts_balance_not_negative" CHECK ("balanceMicros" >= 0),
  ADD CONSTRAINT "accounts_total_spent_not_negative" CHECK ("totalSpentMicros" >= 0),
  ADD CONSTRAINT "accounts_total_spent_within_credit_limit"
    CHECK ("creditLimitMicros" IS NULL OR "totalSpentMicros" <= "creditLimitMicros"),
  ADD CONSTRAINT "accounts_sub_account_limit_not_negative" CHECK ("subAccountLimit" >= 0);

ALTER TABLE "phone_numbers"
  ADD CONSTRAINT "phone_numbers_active_number_matches"
    CHECK (("status" = 'ACTIVE' AND "activeNumber" = "number") OR ("status" = 'RELEASED' AND "activeNumber" IS NULL));

ALTER TABLE "usage_records"
  ADD CONSTRAINT "usage_records_quantity_positive" CHECK ("quantity" > 0),
  ADD CONSTRAINT "usage_records_cost_not_negative" CHECK ("costMicros" >= 0);

ALTER TABLE "platform_rates"
  ADD CONSTRAINT "platform_rates_price_not_negative" CHECK ("unitPriceMicros" >= 0);
ALTER TABLE "account_rates"
  ADD CONSTRAINT "account_rates_price_not_negative" CHECK ("unitPriceMicros" >= 0);

-- The default rate card (README: "Default rate card"), in micro-units of USD.
INSERT INTO "platform_rates" ("product", "unitPriceMicros", "updatedAt") VALUES
  ('SMS_OUTBOUND',            7900, CURRENT_TIMESTAMP),
  ('SMS_INBOUND',             5000, CURRENT_TIMESTAMP),
  ('MMS_OUTBOUND',           20000, CURRENT_TIMESTAMP),
  ('VOICE_OUTBOUND_MINUTE',  14000, CURRENT_TIMESTAMP),
  ('VOICE_INBOUND_MINUTE',    8500, CURRENT_TIMESTAMP),
  ('PHONE_NUMBER_MONTHLY', 1150000, CURRENT_TIMESTAMP);
