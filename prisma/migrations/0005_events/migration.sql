-- The event log (src/services/events.ts; DOMAIN.md "Events and webhooks").
-- txid is the writing transaction's id: the streams read in (txid, id)
-- order below the oldest running transaction (src/events/stream.ts).
-- CreateEnum
CREATE TYPE "EventType" AS ENUM ('MANAGER_CREATED', 'MANAGER_UPDATED', 'MANAGER_SUSPENDED', 'MANAGER_REACTIVATED', 'SUB_ACCOUNT_CREATED', 'SUB_ACCOUNT_UPDATED', 'SUB_ACCOUNT_SUSPENDED', 'SUB_ACCOUNT_REACTIVATED', 'SUB_ACCOUNT_CLOSED', 'SUB_ACCOUNT_PURGED', 'API_KEY_CREATED', 'API_KEY_ROLLED', 'API_KEY_REVOKED', 'PHONE_NUMBER_PROVISIONED', 'PHONE_NUMBER_TRANSFERRED', 'PHONE_NUMBER_RELEASED', 'PRICING_UPDATED', 'BALANCE_TOPPED_UP', 'BALANCE_TRANSFERRED', 'USAGE_RECORDED', 'CREDIT_LIMIT_REACHED', 'USAGE_TRIGGER_CREATED', 'USAGE_TRIGGER_DELETED', 'USAGE_TRIGGER_FIRED', 'WEBHOOK_ENDPOINT_CREATED', 'WEBHOOK_ENDPOINT_UPDATED', 'WEBHOOK_ENDPOINT_DELETED', 'WEBHOOK_ENDPOINT_DISABLED');

-- CreateTable
CREATE TABLE "events" (
    "id" UUID NOT NULL,
    "type" "EventType" NOT NULL,
    "accountId" UUID,
    "treeManagerId" UUID,
    "actorRole" "Role",
    "actorApiKeyPrefix" TEXT,
    "data" JSONB NOT NULL,
    "privilegedData" JSONB NOT NULL,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "txid" xid8 NOT NULL DEFAULT pg_current_xact_id(),

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "events_accountId_occurredAt_id_idx" ON "events"("accountId", "occurredAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_treeManagerId_occurredAt_id_idx" ON "events"("treeManagerId", "occurredAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_occurredAt_idx" ON "events"("occurredAt");

-- CreateIndex
CREATE INDEX "events_txid_id_idx" ON "events"("txid", "id");

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_treeManagerId_fkey" FOREIGN KEY ("treeManagerId") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

