import type { ObjectRef } from "@pothos/core";
import * as E from "../domain/errors.js";
import { type BuilderTypes, builder } from "./builder.js";
import { AccountStatusEnum } from "./enums.js";
import { MoneyRef, money } from "./money.js";

export const ErrorCodeEnum = builder.enumType("ErrorCode", {
  description: "Machine-readable kind of an expected failure.",
  values: {
    NOT_FOUND: { description: "The object does not exist, or the caller may not reach it (the two are indistinguishable)." },
    FORBIDDEN: { description: "The caller's role may not do this." },
    VALIDATION: { description: "The input is invalid; `fieldErrors` says where." },
    CONFLICT: { description: "The change conflicts with existing data (e.g. an email or phone number in use)." },
    LIMIT_EXCEEDED: { description: "A quota would be exceeded (e.g. the sub-account limit)." },
    INVALID_STATE_TRANSITION: { description: "The account's lifecycle does not allow this change." },
    ACCOUNT_NOT_ACTIVE: { description: "The account is suspended or closed." },
    INSUFFICIENT_FUNDS: { description: "The balance does not cover the charge." },
    CREDIT_LIMIT_EXCEEDED: { description: "The charge would take total spent above the credit limit." },
    IDEMPOTENCY_CONFLICT: { description: "The idempotency key was used before with a different input." },
    RATE_LIMITED: { description: "Too many requests of this kind; retry later." },
  } as const,
});

export const ErrorInterface = builder.interfaceRef<E.DomainError>("Error").implement({
  description: "An expected failure, returned as a typed result of a mutation.",
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: "Kind of failure.", resolve: (e) => e.code }),
    message: t.string({ description: "Human-readable explanation.", resolve: (e) => e.message }),
  }),
});

const FieldErrorRef = builder.objectRef<E.FieldError>("FieldError").implement({
  description: "One invalid input field.",
  fields: (t) => ({
    path: t.stringList({ description: 'Path of the field within the input, e.g. ["email"].', resolve: (e) => e.path }),
    message: t.exposeString("message", { description: "What is wrong with it." }),
  }),
});

type ErrorClass = abstract new (...args: never[]) => E.DomainError;
const errorRefs = new Map<ErrorClass, ReturnType<typeof builder.objectRef<E.DomainError>>>();

function errorType<T extends E.DomainError>(
  cls: new (...args: never[]) => T,
  description: string,
  fields?: (t: PothosSchemaTypes.ObjectFieldBuilder<typeof builder extends PothosSchemaTypes.SchemaBuilder<infer S> ? S : never, T>) => Record<string, unknown>,
) {
  const ref = builder.objectRef<T>(cls.name).implement({
    description,
    interfaces: [ErrorInterface] as never,
    isTypeOf: (value: unknown) => (value as { __typename?: string })?.__typename === cls.name,
    fields: fields as never,
  });
  errorRefs.set(cls, ref as never);
}

errorType(E.NotFoundError, "The object does not exist or is out of the caller's reach.");
errorType(E.ForbiddenError, "The caller's role may not perform this operation or change these fields.");
errorType(E.ValidationError, "The input is invalid.", (t) => ({
  fieldErrors: t.field({ type: [FieldErrorRef], description: "Each invalid field with its reason.", resolve: (e) => e.fieldErrors }),
}));
errorType(E.ConflictError, "The change conflicts with existing data.");
errorType(E.LimitExceededError, "A quota would be exceeded.", (t) => ({
  limit: t.int({ description: "The quota in force.", resolve: (e) => e.limit }),
}));
errorType(E.InvalidStateTransitionError, "The account's lifecycle does not allow this change.", (t) => ({
  from: t.field({ type: AccountStatusEnum, description: "Status the account is in.", resolve: (e) => e.from }),
  to: t.field({ type: AccountStatusEnum, description: "Status that was asked for.", resolve: (e) => e.to }),
}));
errorType(E.AccountNotActiveError, "The account is not ACTIVE (suspended, closed, or under a suspended manager).", (t) => ({
  status: t.field({ type: AccountStatusEnum, description: "The account's effective status.", resolve: (e) => e.status }),
}));
errorType(E.InsufficientFundsError, "The balance does not cover the charge; nothing was recorded.");
errorType(E.CreditLimitExceededError, "The charge would take total spent above the credit limit; nothing was recorded.", (t) => ({
  creditLimit: t.field({ type: MoneyRef, description: "The account's credit limit.", resolve: (e) => money(e.creditLimitMicros) }),
  totalSpent: t.field({ type: MoneyRef, description: "Total spent before this charge.", resolve: (e) => money(e.totalSpentMicros) }),
}));
errorType(E.IdempotencyConflictError, "The idempotency key was already used with a different input.");
errorType(E.RateLimitedError, "Too many requests of this kind.", (t) => ({
  retryAfterSeconds: t.int({ description: "Seconds until a retry can succeed.", resolve: (e) => e.retryAfterSeconds }),
}));

/**
 * A mutation's result union, `<Name>Result = <Success> | <Error>...`, in the
 * contract's order. Expected failures are results, not GraphQL errors.
 */
export function resultUnion<S extends object>(name: string, success: ObjectRef<BuilderTypes, S>, errors: readonly ErrorClass[], description: string) {
  return builder.unionType(`${name}Result`, {
    description,
    types: [success, ...errors.map((cls) => errorRefs.get(cls)!)] as never,
    resolveType: (value: unknown) => ((value as { __typename?: string }).__typename ?? success.name) as never,
  });
}

/**
 * Runs a mutation and turns the domain errors its union declares into
 * results; anything else stays an (unexpected, masked) error.
 */
export async function resultOf<T>(errors: readonly ErrorClass[], work: () => Promise<T> | T): Promise<T | E.DomainError> {
  try {
    return await work();
  } catch (error) {
    if (errors.some((cls) => error instanceof cls)) return asResult(error as E.DomainError);
    throw error;
  }
}

/**
 * A domain error as a plain result object: graphql-js treats any returned
 * Error instance as a thrown one, so the typed result must not be an Error.
 */
function asResult(error: E.DomainError): E.DomainError {
  return { ...error, code: error.code, message: error.message, __typename: error.constructor.name } as unknown as E.DomainError;
}
