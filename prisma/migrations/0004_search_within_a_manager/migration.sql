-- `contains` filters on a manager's sub-accounts ask for one manager's rows
-- whose email (or organization name) holds a text: one GIN index over both
-- columns answers the two conditions together (btree_gin indexes the
-- manager id, pg_trgm the text), and GIN's scan is driven by its rarest
-- keys, so a manager with 100,000 sub-accounts costs no more to search than
-- the matches themselves. With the text-only indexes of 0002, Postgres had to
-- intersect the text's matches across all accounts with every one of that
-- manager's rows (docs/benchmarks.md). A multicolumn GIN index serves a
-- condition on either column alone as well as the old indexes did (the
-- operator's `managers` search), so these replace them. Plain CREATE INDEX
-- (migrations run in a transaction): writes to accounts wait while it
-- builds, about a second per 100,000 accounts.
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX IF NOT EXISTS "accounts_managerId_email_trgm_idx" ON "accounts" USING GIN ("managerId", "email" gin_trgm_ops);

CREATE INDEX IF NOT EXISTS "accounts_managerId_organizationName_trgm_idx" ON "accounts" USING GIN ("managerId", "organizationName" gin_trgm_ops);

DROP INDEX IF EXISTS "accounts_email_trgm_idx";

DROP INDEX IF EXISTS "accounts_organizationName_trgm_idx";
