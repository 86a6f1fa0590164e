import { createContextCache } from "@pothos/core";

// Per-request read caches (DataLoaders). A mutation changes rows that a
// cache may already hold (a balance, a list of numbers), so every cache
// made here is emptied after each mutation field: what a mutation's result
// shows, and any mutation after it in the same document, is read fresh.

// biome-ignore lint/suspicious/noExplicitAny: caches of every context type; each is only ever called with its own
const caches: ((ctx: any) => { clearAll(): unknown })[] = [];

/** A DataLoader (or anything with clearAll) made once per request and emptied after each mutation. */
export function requestCache<T extends { clearAll(): unknown }, C extends object = object>(create: (ctx: C) => T): (ctx: C) => T {
  const cache = createContextCache(create);
  caches.push(cache);
  return cache;
}

const wrote = new WeakSet<object>();

/** Empties every per-request read cache of this request (after a write). */
export function forgetRequestReads(ctx: object): void {
  wrote.add(ctx);
  for (const cache of caches) cache(ctx).clearAll();
}

/** Whether this request has written: rows read before that (with its credentials) are stale. */
export const hasWritten = (ctx: object): boolean => wrote.has(ctx);

/**
 * Runs a batch once the current burst of resolvers has settled (setImmediate,
 * not DataLoader's default next tick): sibling lists of one request, such as
 * two aliased pages of sub-accounts, resolve in different promise chains and
 * would otherwise make a batch each.
 */
export const afterResolvers = (dispatch: () => void): void => void setImmediate(dispatch);
