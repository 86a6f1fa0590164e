import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { DateTimeResolver, EmailAddressResolver, JSONObjectResolver, URLResolver } from "graphql-scalars";
import { builder } from "./builder.js";

builder.addScalarType("DateTime", DateTimeResolver, {});
builder.addScalarType("EmailAddress", EmailAddressResolver, {});
builder.addScalarType("JSONObject", JSONObjectResolver, {});
builder.addScalarType("URL", URLResolver, {});

/** Strict E.164: "+", a first digit 1-9, 2 to 15 digits in all. */
export const E164_PATTERN = /^\+[1-9][0-9]{1,14}$/;

function parseE164(value: unknown): string {
  if (typeof value !== "string" || !E164_PATTERN.test(value)) {
    throw new GraphQLError('E164 must be a phone number in strict E.164 form: "+", a first digit 1-9, 2 to 15 digits in all (e.g. +14155550100)', {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return value;
}

// graphql-scalars' PhoneNumber accepts looser forms ("+1 415 555 0100");
// DOMAIN.md wants anything but strict E.164 refused, never normalised.
builder.addScalarType(
  "E164",
  new GraphQLScalarType({
    name: "E164",
    description:
      'A phone number in strict E.164 form: "+", a first digit 1-9, 2 to 15 digits in all (e.g. +14155550100). Other forms are refused, never normalised.',
    serialize: (value) => parseE164(value),
    parseValue: (value) => parseE164(value),
    parseLiteral: (ast) => parseE164(ast.kind === Kind.STRING ? ast.value : undefined),
  }),
  {},
);
