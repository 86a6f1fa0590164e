// Unexpected errors: the client gets a bare message and the request id; the
// log gets the error with the same request id.
import { createSchema, createYoga } from "graphql-yoga";
import { Counter, Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import { logger } from "../../src/observability/logger.js";
import { useUnexpectedErrorReporting } from "../../src/yoga.js";

describe("unexpected errors", () => {
  it("are masked for the client and logged with the request id", async () => {
    const errors = new Counter({ name: "test_errors_total", help: "t", labelNames: ["code"], registers: [new Registry()] });
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: "type Query { boom: Int }",
        resolvers: {
          Query: {
            boom: () => {
              throw new Error('relation "accounts" does not exist (prisma)');
            },
          },
        },
      }),
      context: () => ({ requestId: "req-abc", typedErrors: [] }),
      maskedErrors: { isDev: false },
      plugins: [useUnexpectedErrorReporting(errors) as never],
    });
    const logged = vi.spyOn(logger, "error").mockImplementation(() => undefined as never);
    const res = await yoga.fetch("http://t/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ boom }"}' });
    const body = await res.json();
    expect(body.errors).toEqual([
      {
        message: "Unexpected error.",
        locations: [{ line: 1, column: 3 }],
        path: ["boom"],
        extensions: { code: "INTERNAL_SERVER_ERROR", requestId: "req-abc" },
      },
    ]);
    expect(JSON.stringify(body)).not.toMatch(/prisma|relation/);
    expect(logged).toHaveBeenCalledTimes(1);
    const [fields, message] = logged.mock.calls[0] as [Record<string, unknown>, string];
    expect(message).toBe("unexpected error");
    expect(fields.requestId).toBe("req-abc");
    expect(String(fields.err)).toMatch(/relation "accounts"/);
    logged.mockRestore();
  });
});
