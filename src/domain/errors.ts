import type { AccountStatus } from "../generated/prisma/client.js";

/**
 * Expected failures of the domain. Mutations return them as typed results
 * (the contract's `Error` interface); anything else is an unexpected error
 * that Yoga masks.
 */
export type ErrorCode =
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "VALIDATION"
  | "CONFLICT"
  | "LIMIT_EXCEEDED"
  | "INVALID_STATE_TRANSITION"
  | "ACCOUNT_NOT_ACTIVE"
  | "INSUFFICIENT_FUNDS"
  | "CREDIT_LIMIT_EXCEEDED"
  | "IDEMPOTENCY_CONFLICT"
  | "RATE_LIMITED";

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND";
  constructor(what = "The requested resource") {
    super(`${what} was not found`);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = "FORBIDDEN";
  constructor(message = "This operation is not permitted for your role") {
    super(message);
  }
}

export interface FieldError {
  path: string[];
  message: string;
}

export class ValidationError extends DomainError {
  readonly code = "VALIDATION";
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.length === 1 ? fieldErrors[0]!.message : "The input is invalid");
  }
  static of(path: string, message: string): ValidationError {
    return new ValidationError([{ path: path.split("."), message }]);
  }
}

export class ConflictError extends DomainError {
  readonly code = "CONFLICT";
}

export class LimitExceededError extends DomainError {
  readonly code = "LIMIT_EXCEEDED";
  constructor(
    message: string,
    readonly limit: number,
  ) {
    super(message);
  }
}

export class InvalidStateTransitionError extends DomainError {
  readonly code = "INVALID_STATE_TRANSITION";
  constructor(
    readonly from: AccountStatus,
    readonly to: AccountStatus,
  ) {
    super(`An account cannot go from ${from} to ${to}`);
  }
}

export class AccountNotActiveError extends DomainError {
  readonly code = "ACCOUNT_NOT_ACTIVE";
  constructor(
    readonly status: AccountStatus,
    message = `The account is ${status.toLowerCase()}`,
  ) {
    super(message);
  }
}

export class InsufficientFundsError extends DomainError {
  readonly code = "INSUFFICIENT_FUNDS";
  constructor(message = "The balance does not cover this charge") {
    super(message);
  }
}

export class CreditLimitExceededError extends DomainError {
  readonly code = "CREDIT_LIMIT_EXCEEDED";
  constructor(
    readonly creditLimitMicros: bigint,
    readonly totalSpentMicros: bigint,
  ) {
    super("This charge would take the account's total spent above its credit limit");
  }
}

export class IdempotencyConflictError extends DomainError {
  readonly code = "IDEMPOTENCY_CONFLICT";
  constructor() {
    super("This idempotency key was already used with a different input");
  }
}

export class RateLimitedError extends DomainError {
  readonly code = "RATE_LIMITED";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
