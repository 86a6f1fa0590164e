import { randomUUID } from "node:crypto";

/**
 * A new row id in the form Prisma gives ids (`@default(uuid(7))`, RFC 9562
 * version 7): 48 bits of Unix milliseconds, then random bits, so ids sort by
 * creation time like those Prisma makes. For rows written in plain SQL, where
 * Prisma does not fill the id (the columns have no database default).
 */
export function newId(now = Date.now()): string {
  // A version 4 UUID's random bits (randomUUID draws them from a buffered
  // pool: cheaper than a randomBytes call per id) and its variant, behind the
  // timestamp and the version 7 nibble.
  const time = now.toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}

export type AccountKind = "MANAGER" | "SUB_ACCOUNT";

/**
 * An account as a caller named it: its row id and the kind its global id
 * said. Lookups match both, so a SubAccount's id relabelled as a Manager's
 * names nothing (DOMAIN.md: a global id names one type).
 */
export interface AccountRef {
  id: string;
  kind: AccountKind;
}
