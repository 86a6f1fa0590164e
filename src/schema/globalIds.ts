import { decodeGlobalID } from "@pothos/plugin-relay";
import { NotFoundError } from "../domain/errors.js";
import type { AccountRef } from "../services/ids.js";

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
/**
 * The account a Manager or SubAccount global id names, with the kind it
 * names, or NotFoundError. Lookups match the kind too, so a sub-account's
 * id relabelled "Manager:<id>" names nothing.
 */
export function decodeAccountRef(globalId: string, what = "The account"): AccountRef {
  const { typename, id } = decodeIdOrThrow(globalId, ["Manager", "SubAccount"], what);
  return { id, kind: typename === "Manager" ? "MANAGER" : "SUB_ACCOUNT" };
}

export function decodeIdOrThrow(globalId: string, typenames: readonly string[], what = "The object"): { typename: string; id: string } {
  const parsed = parseGlobalId(globalId);
  if (!parsed || !typenames.includes(parsed.typename)) throw new NotFoundError(what);
  return parsed;
}
