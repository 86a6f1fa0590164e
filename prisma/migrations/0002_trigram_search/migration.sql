-- Trigram indexes for the case-insensitive `contains` filters on sub-account
-- and manager lists (Prisma sends `ILIKE '%...%'`, which a btree cannot serve;
-- GIN gin_trgm_ops indexes can, for patterns of 3 characters or more, which is
-- the filters' minimum). Migration-only: Prisma's schema does not describe them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX IF NOT EXISTS "accounts_email_trgm_idx" ON "accounts" USING GIN ("email" gin_trgm_ops);

CREATE INDEX IF NOT EXISTS "accounts_organizationName_trgm_idx" ON "accounts" USING GIN ("organizationName" gin_trgm_ops);
