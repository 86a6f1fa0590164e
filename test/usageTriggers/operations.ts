// The usage-trigger operations the tests in this folder send, and what they
// read back (through the API, or with Prisma for what the API does not show).
import { prisma } from "../../src/db/client.js";
import { gql, gqlData, result } from "../helpers/app.js";
import type { Product } from "../helpers/factories.js";
import { graphql, type VariablesOf } from "../helpers/graphql.js";
import { dbId } from "../helpers/ids.js";

export const CREATE_TRIGGER = graphql(`mutation($input: CreateUsageTriggerInput!) { createUsageTrigger(input: $input) {
  __typename ... on CreateUsageTriggerSuccess { trigger { id condition threshold { amount currency } product period action lastFiredAt createdAt account { id } } }
  ... on Error { code message }
  ... on ValidationError { fieldErrors { path message } }
  ... on LimitExceededError { limit } } }`);

export const DELETE_TRIGGER = graphql(`mutation($input: DeleteUsageTriggerInput!) { deleteUsageTrigger(input: $input) {
  __typename ... on DeleteUsageTriggerSuccess { deletedId } ... on Error { code message } } }`);

export const TRIGGERS_OF = graphql(`query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Account {
  usageTriggers(first: $first, after: $after) { totalCount pageInfo { endCursor hasNextPage }
    nodes { id condition threshold { amount currency } product period action lastFiredAt createdAt account { id } } } } } }`);

export const TRIGGER_NODE = graphql(`query($id: ID!) { node(id: $id) { __typename ... on UsageTrigger { id threshold { amount } account { id } } } }`);

export const EVENTS_OF = graphql(`query($id: ID!, $types: [EventType!]) { node(id: $id) { ... on Account {
  events(first: 250, types: $types) { totalCount nodes { id type data account { id } } } } } }`);

export type TriggerInput = VariablesOf<typeof CREATE_TRIGGER>["input"];

/** createUsageTrigger as `token`: the result union member. */
export const createTrigger = async (token: string, input: TriggerInput) => result(await gql(CREATE_TRIGGER, { token, variables: { input } }));

/** A trigger that must be created; returns it. */
export async function newTrigger(token: string, input: TriggerInput) {
  const r = await createTrigger(token, input);
  if (r.__typename !== "CreateUsageTriggerSuccess") throw new Error(`createUsageTrigger failed: ${JSON.stringify(r)}`);
  return r.trigger;
}

/** deleteUsageTrigger as `token`: the result union member. */
export const deleteTrigger = async (token: string, id: string) => result(await gql(DELETE_TRIGGER, { token, variables: { input: { id } } }));

export interface EventRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
  account: { id: string } | null;
}

/** The events of `type` about an account, as `token` reads them (newest first); throws when the account is out of reach. */
export async function eventsOf(token: string, accountId: string, type: string): Promise<EventRow[]> {
  const { node } = await gqlData(EVENTS_OF, { token, variables: { id: accountId, types: [type] as never } });
  if (!node || !("events" in node)) throw new Error(`account ${accountId} is out of reach`);
  return node.events.nodes as EventRow[];
}

/** How many events of `type` the database holds about an account. */
export const countEvents = (accountId: string, type: "USAGE_TRIGGER_FIRED" | "SUB_ACCOUNT_SUSPENDED" | "USAGE_TRIGGER_CREATED" | "USAGE_TRIGGER_DELETED") =>
  prisma.event.count({ where: { accountId: dbId(accountId), type } });

/** A trigger's row, with the counters the API does not show. */
export const triggerRow = (id: string) => prisma.usageTrigger.findUniqueOrThrow({ where: { id: dbId(id) } });

/** Whether charges of the account take the trigger path. */
export const flagOf = async (accountId: string) => (await prisma.account.findUniqueOrThrow({ where: { id: dbId(accountId) } })).hasUsageTriggers;

/** What a refused change must leave as it was: the accounts' triggers, audit events, events and flags. */
export async function footprint(accountIds: string[]) {
  const ids = accountIds.map(dbId);
  const [triggers, audits, events, flags] = await Promise.all([
    prisma.usageTrigger.count({ where: { accountId: { in: ids } } }),
    prisma.auditEvent.count({ where: { accountId: { in: ids } } }),
    prisma.event.count({ where: { accountId: { in: ids } } }),
    prisma.account.findMany({ where: { id: { in: ids } }, select: { id: true, hasUsageTriggers: true, status: true }, orderBy: { id: "asc" } }),
  ]);
  return { triggers, audits, events, flags };
}

export type { Product };
