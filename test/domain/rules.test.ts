import { describe, expect, it } from "vitest";
import { generateApiKeySecret, hashSecret, looksLikeApiKeySecret, secretsEqual } from "../../src/auth/secrets.js";
import { InvalidStateTransitionError } from "../../src/domain/errors.js";
import { effectiveStatus, planTransition, scheduledDeletionAt } from "../../src/domain/lifecycle.js";
import { checkName } from "../../src/domain/text.js";

describe("lifecycle rules", () => {
  it("allows ACTIVE <-> SUSPENDED and both -> CLOSED", () => {
    expect(planTransition("ACTIVE", "suspend")).toEqual({ change: true, to: "SUSPENDED" });
    expect(planTransition("SUSPENDED", "reactivate")).toEqual({ change: true, to: "ACTIVE" });
    expect(planTransition("ACTIVE", "close")).toEqual({ change: true, to: "CLOSED" });
    expect(planTransition("SUSPENDED", "close")).toEqual({ change: true, to: "CLOSED" });
  });
  it("treats repeating the current status as a no-op", () => {
    expect(planTransition("SUSPENDED", "suspend")).toEqual({ change: false });
    expect(planTransition("ACTIVE", "reactivate")).toEqual({ change: false });
  });
  it("makes CLOSED terminal, CLOSED -> CLOSED included", () => {
    for (const action of ["suspend", "reactivate", "close"] as const) {
      expect(() => planTransition("CLOSED", action)).toThrow(InvalidStateTransitionError);
    }
  });
  it("derives the effective status from the manager", () => {
    expect(effectiveStatus("ACTIVE", "SUSPENDED")).toBe("SUSPENDED");
    expect(effectiveStatus("ACTIVE", "ACTIVE")).toBe("ACTIVE");
    expect(effectiveStatus("CLOSED", "SUSPENDED")).toBe("CLOSED");
  });
  it("schedules deletion 30 days after closing only while auto-delete is on", () => {
    const closedAt = new Date("2026-01-01T00:00:00Z");
    expect(scheduledDeletionAt(closedAt, true)?.toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(scheduledDeletionAt(closedAt, false)).toBeNull();
    expect(scheduledDeletionAt(null, true)).toBeNull();
  });
});

describe("names", () => {
  it("trims, and refuses empty, long, control and bidi-override text", () => {
    expect(checkName("  Acme  ", "n", 10)).toEqual({ value: "Acme" });
    expect(checkName("", "n", 10)).toHaveProperty("error");
    expect(checkName("x".repeat(11), "n", 10)).toHaveProperty("error");
    expect(checkName("a\u0000b", "n", 10)).toHaveProperty("error");
    expect(checkName("a\u202Eb", "n", 10)).toHaveProperty("error");
    expect(checkName("東京", "n", 2)).toEqual({ value: "東京" });
  });
});

describe("API key secrets", () => {
  it("are 256-bit random, recognisable, hashed, and compared in constant time", () => {
    const a = generateApiKeySecret();
    const b = generateApiKeySecret();
    expect(a.secret).not.toBe(b.secret);
    expect(looksLikeApiKeySecret(a.secret)).toBe(true);
    expect(a.secret.startsWith(a.prefix)).toBe(true);
    expect(a.hash).toBe(hashSecret(a.secret));
    expect(a.hash).not.toContain(a.secret);
    expect(secretsEqual(a.secret, a.secret)).toBe(true);
    expect(secretsEqual(a.secret, b.secret)).toBe(false);
    expect(secretsEqual(a.secret, "")).toBe(false);
  });
});
