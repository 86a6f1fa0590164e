import { decodeGlobalID } from "@pothos/plugin-relay";
import { NotFoundError } from "../domain/errors.js";

/** A row id: the lowercase UUIDs the database gives. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Decodes one of our global ids; undefined for anything that is not one. */
export function parseGlobalId(globalId: string): { typename: string; id: string } | undefined {
  if (typeof globalId !== "string" || globalId.length > 200) return undefined;
  try {
    const { typename, id } = decodeGlobalID(globalId);
    return UUID_PATTERN.test(id) ? { typename, id } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The database id behind a global id of one of the expected types, or a
 * NotFoundError: a malformed id, a wrong type and a missing row look alike.
 */
/** The database id of an account (Manager or SubAccount global id), or NotFoundError. */
export const decodeAccountId = (globalId: string, what = "The account"): string =>
  decodeIdOrThrow(globalId, ["Manager", "SubAccount"], what).id;

export function decodeIdOrThrow(globalId: string, typenames: readonly string[], what = "The object"): { typename: string; id: string } {
  const parsed = parseGlobalId(globalId);
  if (!parsed || !typenames.includes(parsed.typename)) throw new NotFoundError(what);
  return parsed;
}
