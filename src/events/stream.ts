// The live event stream behind Subscription.events: ONE reader of the event
// log per process, however many subscribers, each served in memory from the
// rows that reader fetched.
//
// Order and completeness come from the log, not from the wake-ups. Rows are
// read in (txid, id) order, txid being the writing transaction's id, and only
// below the oldest transaction still running (pg_snapshot_xmin): every event
// there has committed, so a transaction that commits late (it began first,
// committed last) is read when it commits, never skipped past. A position in
// that order is a subscriber's resume point: `after` replays from it what the
// reader's position has passed, and the live feed continues from there, so a
// client that reconnects misses nothing and gets nothing twice.
//
// Wake-ups only make the stream prompt: this process's own writes wake it at
// once (schema/mutation.ts, after each mutation), other processes' through wakeups.ts
// (Redis or Postgres NOTIFY), and a poll every POLL_INTERVAL_MS catches
// anything a wake-up lost.

import { Repeater } from "graphql-yoga";
import { runSql } from "../db/sql.js";
import type { EventType, Role } from "../generated/prisma/client.js";
import { logger } from "../observability/logger.js";

/** A place in the log's (txid, id) order. */
export interface LogPosition {
  txid: string;
  id: string;
}

/** An event row as the stream delivers it (the columns Event's fields read). */
export interface StreamedEvent extends LogPosition {
  type: EventType;
  accountId: string | null;
  treeManagerId: string | null;
  actorRole: Role | null;
  actorApiKeyPrefix: string | null;
  viaActAs: boolean;
  data: unknown;
  privilegedData: unknown;
  occurredAt: Date;
}

/** Which events a subscriber receives: its reach (DOMAIN.md: the row rules of the event's account) and the types it asked for. */
export type EventFilter = (event: StreamedEvent) => boolean;

const POLL_INTERVAL_MS = 1_000;
const BATCH = 500;
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
const COLUMNS = `"id", "type", "accountId", "treeManagerId", "actorRole", "actorApiKeyPrefix", "viaActAs", "data", "privilegedData", "occurredAt", "txid"::text AS "txid"`;

/**
 * The log's one reading rule (above), for every reader of it (this stream,
 * the webhook dispatcher): the events of table alias `e` after the position
 * (`txid`, `id`), committed for sure.
 */
export const committedAfter = (e: string, txid: string, id: string) =>
  `(${e}."txid", ${e}."id") > (${txid}, ${id}) AND ${e}."txid" < pg_snapshot_xmin(pg_current_snapshot())`;

/** Events after `from`, up to `through` when given, that have committed: the order and bound explained above. */
const READ_AFTER = `SELECT ${COLUMNS} FROM "events" e
  WHERE ${committedAfter("e", "$1::xid8", "$2::uuid")}
  ORDER BY "txid", "id" LIMIT ${BATCH}`;
const READ_BETWEEN = `SELECT ${COLUMNS} FROM "events"
  WHERE ("txid", "id") > ($1::xid8, $2::uuid) AND ("txid", "id") <= ($3::xid8, $4::uuid)
  ORDER BY "txid", "id" LIMIT ${BATCH}`;
/** Where "from now on" starts: the oldest transaction still running, before any event it may write. */
const CURRENT_POSITION = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS "txid"`;
/** The position of one event (a subscriber's `after`). */
const POSITION_OF = `SELECT "txid"::text AS "txid", "id" FROM "events" WHERE "id" = $1::uuid`;

const isAfter = (a: LogPosition, b: LogPosition) => {
  const [x, y] = [BigInt(a.txid), BigInt(b.txid)];
  return x !== y ? x > y : a.id > b.id;
};

interface Subscriber {
  filter: EventFilter;
  push: (events: StreamedEvent[]) => void;
  stop: () => void;
}

export class EventStream {
  #position: LogPosition | undefined;
  #subscribers = new Set<Subscriber>();
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #closed = false;

  /** The position of the event `eventId`, or undefined if it does not exist. */
  async positionOf(eventId: string): Promise<LogPosition | undefined> {
    const [row] = await runSql<LogPosition>(POSITION_OF, [eventId]);
    return row;
  }

  /**
   * The events `filter` admits, from just after `after` (or from now), as
   * they commit: what was missed first, in log order, then the live feed.
   * Ends when the consumer returns (the client went away), when the stream
   * closes, and with an error when the consumer falls more than
   * MAX_QUEUE_LENGTH events behind (it resumes with `after`).
   */
  subscribe(filter: EventFilter, after: LogPosition | undefined): Repeater<StreamedEvent> {
    return new Repeater<StreamedEvent>(async (push, stop) => {
      // Live events wait here while the replay runs, so the two cannot interleave.
      let held: StreamedEvent[] | undefined = [];
      // A consumer more than MAX_QUEUE_LENGTH (1024) events behind makes push
      // throw: the subscription ends with that error rather than buffer without bound.
      const deliver = (event: StreamedEvent) => {
        try {
          push(event).catch(stop);
        } catch (error) {
          stop(error);
        }
      };
      const subscriber: Subscriber = {
        filter,
        push: (events) => {
          if (this.#closed) return stop();
          for (const event of events) {
            if (!filter(event)) continue;
            if (held) held.push(event);
            else deliver(event);
          }
        },
        stop: () => stop(),
      };
      try {
        // Join the live feed first, then replay up to where it stood when we
        // joined: the live batches all lie beyond that point, so the two meet
        // with no gap and no overlap.
        const joinedAt = await this.#attach(subscriber);
        if (after && isAfter(joinedAt, after)) {
          let from = after;
          for (;;) {
            const rows = await runSql<StreamedEvent>(READ_BETWEEN, [from.txid, from.id, joinedAt.txid, joinedAt.id]);
            for (const row of rows) if (filter(row)) await push(row);
            if (rows.length < BATCH) break;
            from = rows[rows.length - 1]!;
          }
        }
        for (const event of held) deliver(event);
        held = undefined;
      } catch (error) {
        stop(error);
      }
      await stop;
      this.#subscribers.delete(subscriber);
      if (!this.#subscribers.size) this.#stopPolling();
    });
  }

  /** Reads what committed since the last read, now (or right after the read under way). */
  wake(): void {
    if (!this.#subscribers.size || this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = this.#read().finally(() => {
      this.#reading = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /** Ends every subscription (at shutdown). */
  close(): void {
    this.#closed = true;
    this.#stopPolling();
    for (const subscriber of this.#subscribers) subscriber.stop();
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  async #attach(subscriber: Subscriber): Promise<LogPosition> {
    if (!this.#position) {
      const [row] = await runSql<{ txid: string }>(CURRENT_POSITION, []);
      // Another subscriber may have set it meanwhile; the first one stands.
      this.#position ??= { txid: row!.txid, id: NIL_UUID };
    }
    this.#subscribers.add(subscriber);
    this.#timer ??= setInterval(() => this.wake(), POLL_INTERVAL_MS);
    this.#timer.unref();
    return this.#position;
  }

  #stopPolling(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // With nobody listening the reader forgets where it was; the next
    // subscriber starts from its own `after` or from then.
    this.#position = undefined;
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const from = this.#position;
        if (!from) return;
        const rows = await runSql<StreamedEvent>(READ_AFTER, [from.txid, from.id]);
        if (!rows.length || this.#position !== from) return;
        this.#position = rows[rows.length - 1]!;
        for (const subscriber of this.#subscribers) subscriber.push(rows);
        if (rows.length < BATCH) return;
      }
    } catch (error) {
      // The database is away: the next wake-up or poll tries again from the same place.
      logger.warn({ err: error }, "reading the event log failed; retrying at the next poll");
    }
  }
}

/** The process's stream (one reader for every subscription it serves). */
export const eventStream = new EventStream();
