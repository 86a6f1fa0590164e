import { reachablePhoneNumbers, within } from "../../auth/rowFilters.js";
import { prisma } from "../../db/client.js";
import type { PhoneNumber, Prisma } from "../../generated/prisma/client.js";
import { ownerAccountOf } from "../../read/accounts.js";
import { PHONE_NUMBERS } from "../../read/lists.js";
import { AccountRef } from "../accounts/Account.js";
import { builder } from "../builder.js";
import { sharedConnection, sqlListConnection } from "../connections.js";
import { registerNodeLoader } from "../node.js";

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
    account: t.field({
      type: AccountRef,
      description: "The account that holds the number (its new owner after a transfer; the last one once released).",
      reads: ["accountId"],
      resolve: ownerAccountOf,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the number was provisioned." }),
    releasedAt: t.expose("releasedAt", { type: "DateTime", nullable: true, description: "When the number was released; null while ACTIVE." }),
  }),
});

export const PhoneNumberConnection = sharedConnection(PhoneNumberRef, "PhoneNumber", "phone numbers");

// Added here rather than in Account.ts, so phone numbers stay one module.
// Plain SQL, batched per request (read/lists.ts): the numbers of every
// account of a tree page are one statement.
builder.prismaInterfaceField(AccountRef, "phoneNumbers", (t) =>
  t.connection(
    {
      type: PhoneNumberRef,
      description: "The account's phone numbers, newest first. Released numbers only with `includeReleased`.",
      permission: "ACCOUNTS_READ",
      args: {
        includeReleased: t.arg.boolean({ defaultValue: false, description: "Also list RELEASED numbers." }),
      },
      readsList: PHONE_NUMBERS,
      resolve: (account, args, ctx, info) =>
        sqlListConnection<{ includeReleased: boolean }, { includeReleased?: boolean | null }, PhoneNumber>(PHONE_NUMBERS, ctx, info, account.id, args),
    },
    PhoneNumberConnection,
  ),
);

registerNodeLoader("PhoneNumber", "ACCOUNTS_READ", (ids, viewer, query) =>
  prisma.phoneNumber.findMany({ ...query, where: within<Prisma.PhoneNumberWhereInput>({ id: { in: ids } }, reachablePhoneNumbers(viewer)) }),
);
