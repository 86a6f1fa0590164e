// Imports every part of the schema, then builds it. Order does not matter:
// each module registers its types and fields on the shared builder.
import { lexicographicSortSchema } from "graphql";
import { builder } from "./builder.js";
import "./scalars.js";
import "./enums.js";
import "./money.js";
import "./errors.js";
import "./accounts/Account.js";
import "./accounts/Manager.js";
import "./accounts/SubAccount.js";
import "./accounts/queries.js";
import "./accounts/mutations.js";
import "./apiKeys/ApiKey.js";
import "./apiKeys/mutations.js";
import "./phoneNumbers/PhoneNumber.js";
import "./phoneNumbers/mutations.js";
import "./audit/AuditEvent.js";
import "./events/Event.js";
import "./events/subscription.js";
import "./usageTriggers/UsageTrigger.js";
import "./usageTriggers/mutations.js";
import "./webhooks/WebhookEndpoint.js";
import "./webhooks/mutations.js";
import "./billing/Balance.js";
import "./billing/LedgerEntry.js";
import "./billing/UsageRecord.js";
import "./billing/UsageSummary.js";
import "./billing/UsageReport.js";
import "./billing/PriceList.js";
import "./billing/mutations.js";
import "./viewer.js";
import "./node.js";
import { readSqlConnectionNodesDirectly, resolveDefaultedFirstAsAbsent } from "./connections.js";
import { resolveNodeIdsSynchronously } from "./syncGlobalIds.js";

export const schema = resolveDefaultedFirstAsAbsent(readSqlConnectionNodesDirectly(resolveNodeIdsSynchronously(lexicographicSortSchema(builder.toSchema()))));
