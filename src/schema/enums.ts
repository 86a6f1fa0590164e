import { builder } from "./builder.js";

export const RoleEnum = builder.enumType("Role", {
  description: "The kind of caller, from its credentials.",
  values: {
    OPERATOR: { description: "Platform staff, authenticated by the OPERATOR_TOKEN." },
    MANAGER: { description: "A manager account's API key." },
    SUB_ACCOUNT: { description: "A sub-account's API key." },
  } as const,
});

export const AccountStatusEnum = builder.enumType("AccountStatus", {
  description: "Lifecycle status of an account.",
  values: {
    ACTIVE: { description: "In normal use." },
    SUSPENDED: { description: "Readable, but cannot incur usage, provision numbers or top up." },
    CLOSED: { description: "Terminal: keys revoked, numbers released, data kept until purged." },
  } as const,
});
