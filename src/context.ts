import type { Viewer } from "./auth/viewer.js";
import type { Account } from "./generated/prisma/client.js";

/** Per-request context: who is calling, and the request's id for logs. */
export interface Context {
  readonly viewer: Viewer;
  readonly requestId: string;
  /** Codes of the typed errors this request's mutations returned, for metrics. */
  readonly typedErrors: string[];
  /** The caller's own account row, read with its key (null for the operator). */
  readonly callerAccount: Account | null;
}
