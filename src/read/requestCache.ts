import { createContextCache } from "@pothos/core";

// Per-request read caches (DataLoaders). A mutation changes rows that a
// cache may already hold (a balance, a list of numbers), so every cache
// made here is emptied after each mutation field: what a mutation's result
// shows, and any mutation after it in the same document, is read fresh.

const caches: ((ctx: object) => { clearAll(): unknown })[] = [];

/** A DataLoader (or anything with clearAll) made once per request and emptied after each mutation. */
export function requestCache<T extends { clearAll(): unknown }>(create: () => T): (ctx: object) => T {
  const cache = createContextCache(create);
  caches.push(cache);
  return cache;
}

/** Empties every per-request read cache of this request (after a write). */
export function forgetRequestReads(ctx: object): void {
  for (const cache of caches) cache(ctx).clearAll();
}
