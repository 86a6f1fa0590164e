import type { ObjectRef } from "@pothos/core";
import { builder, type BuilderTypes } from "./builder.js";

/** A shared connection type, as relatedConnection/prismaConnection accept it. */
export type SharedConnection = ObjectRef<BuilderTypes, any>;

/**
 * A named, shared Relay connection (`<Name>Connection` / `<Name>Edge`) with
 * `totalCount`, reusable by every field that lists the same type.
 */
export function sharedConnection(ref: ObjectRef<BuilderTypes, any>, name: string, plural: string): SharedConnection {
  const edge = builder.edgeObject({
    type: ref,
    name: `${name}Edge`,
    description: `One of ${plural}, with its cursor.`,
  });
  return builder.connectionObject(
    {
      type: ref,
      name: `${name}Connection`,
      description: `A page of ${plural}.`,
      fields: (t) => ({
        totalCount: t.int({
          description: `How many ${plural} the whole list holds (with the same filters), across all pages.`,
          resolve: (connection) => {
            const { totalCount } = connection as unknown as { totalCount?: number | (() => number | Promise<number>) };
            return typeof totalCount === "function" ? totalCount() : (totalCount ?? 0);
          },
        }),
      }),
    },
    edge,
  );
}

/** Newest first, with the id to break ties between rows of the same millisecond. */
export const NEWEST_FIRST = [{ createdAt: "desc" as const }, { id: "desc" as const }];
