import { type Authenticated, authenticate } from "../auth/authenticate.js";
import { isDatabaseUnavailable, serviceUnavailable } from "../db/availability.js";
import type { RequestLimiter } from "./rateLimit.js";

/**
 * Who is calling, with the request's budgets spent: the one entrance of
 * /graphql and of the CSV export, so both answer 401, 429 and 503 alike.
 * A failed authentication spends the client address's budget; a caller the
 * key's (the calling key's also when it acts as a sub-account; "operator"
 * for the operator token). A key that could not be looked up is the
 * database's fault, not the caller's: 503.
 */
export async function authenticateCaller(
  request: Request,
  remoteAddress: string | undefined,
  { operatorToken, limiter }: { operatorToken: string; limiter: RequestLimiter },
): Promise<Authenticated> {
  let caller: Authenticated;
  try {
    caller = await authenticate(request.headers.get("authorization"), operatorToken, request.headers.get("act-as-account"));
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw serviceUnavailable();
    await limiter.consume("address", remoteAddress ?? "local");
    throw error;
  }
  const { viewer } = caller;
  await limiter.consume("key", viewer.role === "OPERATOR" ? "operator" : viewer.apiKey.id);
  return caller;
}
