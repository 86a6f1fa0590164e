import { type FieldError, ValidationError } from "./errors.js";

// C0/C1 control characters and the bidirectional overrides and isolates
// that can make a name display as something else ("Trojan Source").
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

// In a `u` regular expression a paired surrogate is one code point; only a lone one is of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a text cannot be taken at all, whatever the field: a lone UTF-16
 * surrogate (no UTF-8 form: Postgres and every client would fail on it) or
 * a NUL (Postgres text cannot hold one). Undefined for text that can.
 */
export function unstorableText(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return "must be well-formed Unicode text (it holds a lone UTF-16 surrogate)";
  if (value.includes("\u0000")) return "must not contain NUL characters";
  return undefined;
}

/** Every string in a value (input objects and lists included) that cannot be taken, with its path. */
export function unstorableTextIn(value: unknown, path: string[] = []): FieldError[] {
  if (typeof value === "string") {
    const message = unstorableText(value);
    return message ? [{ path, message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableTextIn(item, [...path, String(i)]));
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.entries(value).flatMap(([key, item]) => unstorableTextIn(item, [...path, key]));
  }
  return [];
}

export const LIMITS = {
  organizationName: 200,
  apiKeyName: 100,
  email: 254,
  idempotencyKey: 255,
} as const;

/**
 * Checks a free-text name: trimmed, 1..max characters, no control or
 * bidi-override characters. Returns the trimmed value or a field error.
 */
export function checkName(value: string, path: string, max: number): { value: string } | { error: FieldError } {
  const trimmed = value.trim();
  const fieldPath = path.split(".");
  if (FORBIDDEN_CHARACTERS.test(value)) {
    return { error: { path: fieldPath, message: "must not contain control or bidirectional-override characters" } };
  }
  if (trimmed.length === 0) return { error: { path: fieldPath, message: "must not be empty" } };
  if ([...trimmed].length > max) return { error: { path: fieldPath, message: `must be at most ${max} characters` } };
  return { value: trimmed };
}

/** Normalises an email (already checked by the EmailAddress scalar) for storage: lowercased. */
export function normalizeEmail(value: string, path: string): { value: string } | { error: FieldError } {
  const lower = value.trim().toLowerCase();
  if (lower.length > LIMITS.email) return { error: { path: path.split("."), message: `must be at most ${LIMITS.email} characters` } };
  if (FORBIDDEN_CHARACTERS.test(lower)) return { error: { path: path.split("."), message: "must not contain control characters" } };
  return { value: lower };
}

/** Collects field errors and throws them together as one ValidationError. */
export class InputChecker {
  private readonly errors: FieldError[] = [];

  name(value: string | null | undefined, path: string, max: number): string | undefined {
    if (value == null) return undefined;
    const result = checkName(value, path, max);
    if ("error" in result) {
      this.errors.push(result.error);
      return undefined;
    }
    return result.value;
  }

  email(value: string | null | undefined, path: string): string | undefined {
    if (value == null) return undefined;
    const result = normalizeEmail(value, path);
    if ("error" in result) {
      this.errors.push(result.error);
      return undefined;
    }
    return result.value;
  }

  check(condition: boolean, path: string, message: string): void {
    if (!condition) this.errors.push({ path: path.split("."), message });
  }

  add(path: string, message: string): void {
    this.errors.push({ path: path.split("."), message });
  }

  /** Throws the collected errors, if any. */
  done(): void {
    if (this.errors.length) throw new ValidationError(this.errors);
  }
}
