import { prisma } from "../../db/client.js";
import { reachablePhoneNumbers, within } from "../../auth/rowFilters.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { builder } from "../builder.js";
import { NEWEST_FIRST, sharedConnection } from "../connections.js";
import { registerNodeLoader } from "../node.js";
import { AccountRef } from "../accounts/Account.js";

export const PhoneNumberStatusEnum = builder.enumType("PhoneNumberStatus", {
  description: "Whether a phone number is in use.",
  values: {
    ACTIVE: { description: "Provisioned and in use by its account; active on no other account." },
    RELEASED: { description: "Given up: kept as history, and free to be provisioned again (as a new phone number)." },
  } as const,
});

// `monthlyPrice` (managers and operators only) is added by the billing module.
export const PhoneNumberRef = builder.prismaNode("PhoneNumber", {
  description: "A phone number provisioned on an account. Active on at most one account at a time.",
  id: { field: "id" },
  findUnique: (id) => ({ id }),
  fields: (t) => ({
    number: t.expose("number", { type: "E164", description: "The number in strict E.164 form, e.g. +14155550100." }),
    status: t.expose("status", { type: PhoneNumberStatusEnum, description: "ACTIVE while in use; RELEASED once given up." }),
    friendlyName: t.exposeString("friendlyName", { nullable: true, description: "A name to recognise the number by, up to 100 characters." }),
    account: t.relation("account", {
      type: AccountRef,
      description: "The account that holds the number (its new owner after a transfer; the last one once released).",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the number was provisioned." }),
    releasedAt: t.expose("releasedAt", { type: "DateTime", nullable: true, description: "When the number was released; null while ACTIVE." }),
  }),
});

export const PhoneNumberConnection = sharedConnection(PhoneNumberRef, "PhoneNumber", "phone numbers");

// Added here rather than in Account.ts, so phone numbers stay one module. A
// related connection joins into its parent's query: an account tree with its
// numbers (and their counts) is one SQL statement.
builder.prismaInterfaceField(AccountRef, "phoneNumbers", (t) =>
  t.relatedConnection(
    "phoneNumbers",
    {
      description: "The account's phone numbers, newest first. Released numbers only with `includeReleased`.",
      cursor: "id",
      totalCount: true,
      args: {
        includeReleased: t.arg.boolean({ defaultValue: false, description: "Also list RELEASED numbers." }),
      },
      query: (args) => ({
        where: args.includeReleased ? {} : { status: "ACTIVE" as const },
        orderBy: NEWEST_FIRST,
      }),
    },
    PhoneNumberConnection,
  ),
);

registerNodeLoader("PhoneNumber", (ids, viewer, query) =>
  prisma.phoneNumber.findMany({ ...query, where: within<Prisma.PhoneNumberWhereInput>({ id: { in: ids } }, reachablePhoneNumbers(viewer)) }),
);
