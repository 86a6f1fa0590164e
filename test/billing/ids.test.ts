// Ids of rows that recordUsage writes in plain SQL: UUIDs of version 7, like
// the ones Prisma makes for the same tables.
import { describe, expect, it } from "vitest";
import { newId } from "../../src/services/ids.js";

describe("newId", () => {
  it("makes version 7 UUIDs that carry their millisecond and sort by it", () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = newId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
    expect(newId(at + 1) > newId(at)).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newId(at))).size).toBe(1000);
  });
});
