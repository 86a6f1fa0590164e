-- Keys that expire (createApiKey's expiresAt, rollApiKey), and changes made by a
-- manager acting as a sub-account (Act-As-Account) marked in audit events and events.
-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "expiresAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "viaActAs" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "events" ADD COLUMN     "viaActAs" BOOLEAN NOT NULL DEFAULT false;

