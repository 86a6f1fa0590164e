import { prisma } from "../../db/client.js";
import type { TextFilter } from "../../domain/textFilters.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { builder } from "../builder.js";
import { NEWEST_FIRST } from "../connections.js";
import { ManagerConnection, ManagerFilterInput, ManagerRef, stringCondition, validateStringFilters } from "./Manager.js";

function managerWhere(filter: { email?: TextFilter | null; organizationName?: TextFilter | null } | null | undefined): Prisma.AccountWhereInput {
  return { kind: "MANAGER", AND: [...stringCondition("email", filter?.email), ...stringCondition("organizationName", filter?.organizationName)] };
}

builder.queryField("managers", (t) =>
  t.prismaConnection(
    {
      type: ManagerRef,
      permission: "ACCOUNTS_READ",
      description: "All managers, newest first. Operators only: anyone else gets a FORBIDDEN error.",
      authScopes: { operator: true },
      cursor: "id",
      args: { filter: t.arg({ type: ManagerFilterInput, required: false, description: "Narrow the list." }) },
      extensions: { validateArgs: validateStringFilters },
      totalCount: (_root, args) => prisma.account.count({ where: managerWhere(args.filter) }),
      resolve: (query, _root, args) => prisma.account.findMany({ ...query, where: managerWhere(args.filter), orderBy: NEWEST_FIRST }),
    },
    ManagerConnection,
  ),
);
