import { parsePrismaCursor } from "@pothos/plugin-prisma";
import { GraphQLError } from "graphql";
import { Repeater } from "graphql-yoga";
import { reachesEvent } from "../../auth/rowFilters.js";
import type { Viewer } from "../../auth/viewer.js";
import { prisma } from "../../db/client.js";
import { eventStream, type StreamedEvent } from "../../events/stream.js";
import type { EventType } from "../../generated/prisma/client.js";
import { builder } from "../builder.js";
import { parseGlobalId, UUID_PATTERN } from "../globalIds.js";
import { reachableIds } from "../node.js";
import { EventRef } from "./Event.js";
import { EventTypeEnum } from "./enums.js";

/** How often, at most, a subscription checks that its key still authenticates (a revoked key, a closed account end it). */
const REAUTHENTICATE_EVERY_MS = 5_000;

/** The event row an `after` names: an Event id or an EventEdge cursor, of an event the viewer reaches; else BAD_USER_INPUT. */
async function afterPosition(after: string, viewer: Viewer) {
  const parsed = parseGlobalId(after);
  let id = parsed?.typename === "Event" ? parsed.id : undefined;
  if (!id) {
    try {
      const value = parsePrismaCursor(after);
      if (typeof value === "string" && UUID_PATTERN.test(value)) id = value;
    } catch {}
  }
  const reachable = id ? await reachableIds("Event", [id], viewer) : undefined;
  const position = id && reachable?.has(id) ? await eventStream.positionOf(id) : undefined;
  // One answer for a made-up id, another tree's event and one past its retention.
  if (!position) throw new GraphQLError("`after` is not an event this subscription can resume from", { extensions: { code: "BAD_USER_INPUT" } });
  return position;
}

/** Whether the viewer's key still authenticates: not revoked, its account not closed (what authenticate checks). */
async function stillAuthenticates(viewer: Viewer): Promise<boolean> {
  if (viewer.role === "OPERATOR") return true;
  // Acting as a sub-account: that account must still be open too.
  if (viewer.actingAs) {
    const account = await prisma.account.findFirst({ where: { id: viewer.accountId, status: { not: "CLOSED" } }, select: { id: true } });
    if (!account) return false;
    if (viewer.actingAs.role === "OPERATOR") return true;
  }
  const key = await prisma.apiKey.findFirst({
    where: { id: viewer.apiKey.id, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }], account: { status: { not: "CLOSED" } } },
    select: { id: true },
  });
  return key !== null;
}

/** Ends `events` once the viewer's key stops authenticating, checked at most every REAUTHENTICATE_EVERY_MS as events arrive. */
function whileAuthenticated(viewer: Viewer, events: Repeater<StreamedEvent>): Repeater<StreamedEvent> {
  return new Repeater(async (push, stop) => {
    let checkedAt = Date.now();
    stop.then(() => events.return());
    for await (const event of events) {
      if (Date.now() - checkedAt > REAUTHENTICATE_EVERY_MS) {
        checkedAt = Date.now();
        if (!(await stillAuthenticates(viewer))) break;
      }
      await push(event);
    }
    stop();
  });
}

builder.subscriptionType({
  description: "Streams over Server-Sent Events (GraphQL over SSE): send the subscription with `Accept: text/event-stream`.",
});

builder.subscriptionField("events", (t) =>
  t.field({
    type: EventRef,
    permission: "EVENTS_READ",
    description:
      "What the caller may see, as it commits, under the same row and field rules as `Account.events` (a manager: its tree; a sub-account: itself; no price for a sub-account). With `after` (the `id` of the last event received, or an EventEdge cursor), first replays in commit order what committed since, then continues live: a client that reconnects with the last id it got misses nothing and gets nothing twice. Ends when the key is revoked or expires, or its account is closed.",
    args: {
      types: t.arg({ type: [EventTypeEnum], required: false, description: "Only events of these types (null or empty: every type)." }),
      after: t.arg.string({ required: false, description: "Resume after this event: its `id`, or an EventEdge `cursor`." }),
    },
    subscribe: async (_root, { types, after }, ctx) => {
      const wanted = types?.length ? new Set<EventType>(types) : undefined;
      const from = after ? await afterPosition(after, ctx.viewer) : undefined;
      return whileAuthenticated(
        ctx.viewer,
        eventStream.subscribe((event) => reachesEvent(ctx.viewer, event) && (!wanted || wanted.has(event.type)), from),
      );
    },
    resolve: (event) => event as never,
  }),
);
