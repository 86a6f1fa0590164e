import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every API key secret starts with this, so leaked keys are easy to scan for. */
export const API_KEY_PREFIX = "agk_";
/** Characters of the secret kept in `ApiKey.prefix` for recognising a key. */
export const API_KEY_PREFIX_LENGTH = 12;
const SECRET_PATTERN = /^agk_[A-Za-z0-9_-]{43}$/;

/** A new API key: 256 random bits, shown once; only its hash is stored. */
export function generateApiKeySecret(): { secret: string; hash: string; prefix: string } {
  const secret = API_KEY_PREFIX + randomBytes(32).toString("base64url");
  return { secret, hash: hashSecret(secret), prefix: secret.slice(0, API_KEY_PREFIX_LENGTH) };
}

/** True when the string has the shape of one of our API key secrets. */
export function looksLikeApiKeySecret(value: string): boolean {
  return SECRET_PATTERN.test(value);
}

/**
 * SHA-256, not a slow password hash: the secrets are 256-bit random values,
 * so there is nothing to brute-force, and lookups stay one indexed query.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares two secrets in time independent of where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  // Hashing first gives equal-length buffers, so length leaks nothing either.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
