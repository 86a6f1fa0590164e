// Global ids in tests: the database id behind one, and ids of the right
// shape whose row never existed (the probes of the authorization tests).
import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { parseGlobalId } from "../../src/schema/globalIds.js";

/** The database id (uuid) behind one of our global ids. */
export function dbId(globalId: string): string {
  const parsed = parseGlobalId(globalId);
  if (!parsed) throw new Error(`not one of our global ids: ${globalId}`);
  return parsed.id;
}

/** A well-formed global id of `typename` whose row never existed. */
export const missingId = (typename: string): string => encodeGlobalID(typename, randomUUID());

/** A global id of the same type as `globalId`, for a row that never existed. */
export function missingLike(globalId: string): string {
  const parsed = parseGlobalId(globalId);
  if (!parsed) throw new Error(`not one of our global ids: ${globalId}`);
  return missingId(parsed.typename);
}
