-- Webhook endpoints and their delivery queue (src/webhooks/), and usage
-- triggers (src/services/usageTriggers.ts). DOMAIN.md "Events and webhooks",
-- "Usage triggers".

-- CreateEnum
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "UsageTriggerCondition" AS ENUM ('SPEND_REACHES', 'BALANCE_FALLS_TO');

-- CreateEnum
CREATE TYPE "UsageTriggerPeriod" AS ENUM ('DAILY', 'MONTHLY', 'ALL_TIME');

-- CreateEnum
CREATE TYPE "UsageTriggerAction" AS ENUM ('NOTIFY', 'SUSPEND');

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "hasUsageTriggers" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "eventTypes" "EventType"[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "secret" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "failingSince" TIMESTAMPTZ(3),
    "disabledAt" TIMESTAMPTZ(3),
    "leaseUntil" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "endpointId" UUID NOT NULL,
    "eventId" UUID NOT NULL,
    "status" "WebhookDeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastAttemptAt" TIMESTAMPTZ(3),
    "responseStatus" INTEGER,
    "nextAttemptAt" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "deliveredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_dispatch_cursor" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "txid" xid8 NOT NULL,
    "eventId" UUID NOT NULL,

    CONSTRAINT "webhook_dispatch_cursor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_triggers" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "condition" "UsageTriggerCondition" NOT NULL,
    "thresholdMicros" BIGINT NOT NULL,
    "product" "Product",
    "period" "UsageTriggerPeriod" NOT NULL,
    "action" "UsageTriggerAction" NOT NULL,
    "periodStart" TIMESTAMPTZ(3),
    "periodSpentMicros" BIGINT NOT NULL DEFAULT 0,
    "firedPeriodStart" TIMESTAMPTZ(3),
    "lastFiredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_triggers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_accountId_createdAt_id_idx" ON "webhook_endpoints"("accountId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpointId_status_seq_idx" ON "webhook_deliveries"("endpointId", "status", "seq");

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpointId_createdAt_id_idx" ON "webhook_deliveries"("endpointId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "webhook_deliveries_eventId_idx" ON "webhook_deliveries"("eventId");

-- CreateIndex
CREATE INDEX "usage_triggers_accountId_createdAt_id_idx" ON "usage_triggers"("accountId", "createdAt" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_triggers" ADD CONSTRAINT "usage_triggers_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The dispatcher starts at the log's present: no endpoint existed before.
INSERT INTO "webhook_dispatch_cursor" ("id", "txid", "eventId")
VALUES (1, pg_snapshot_xmin(pg_current_snapshot()), '00000000-0000-0000-0000-000000000000');
