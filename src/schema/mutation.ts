import type { InputObjectRef, ObjectRef } from "@pothos/core";
import type { Context } from "../context.js";
import type { DomainError } from "../domain/errors.js";
import { builder } from "./builder.js";
import { resultOf, resultUnion } from "./errors.js";
import { forgetRequestReads } from "../read/requestCache.js";

type ErrorClass = abstract new (...args: never[]) => DomainError;

/** A union shared by several mutations (e.g. suspend and reactivate). */
export function sharedResult<S extends object>(name: string, success: ObjectRef<any, S>, errors: readonly ErrorClass[], description: string) {
  return { union: resultUnion(name, success, errors, description), errors };
}

/**
 * Declares a mutation the way every mutation here looks: one required
 * `input`, a result union of its success type and its typed errors.
 */
export function defineMutation<In extends object>(
  name: string,
  options: {
    description: string;
    input: InputObjectRef<any, In>;
    result: { union: unknown; errors: readonly ErrorClass[] };
    resolve: (input: In, ctx: Context) => Promise<object>;
    /** Roles (auth scopes) that may call it; others do not see it in their schema. Default: everyone. */
    authScopes?: { operator?: boolean; manager?: boolean; subAccount?: boolean; privileged?: boolean };
  },
): void {
  builder.mutationField(name, (t) =>
    t.field({
      type: options.result.union as never,
      description: options.description,
      ...(options.authScopes ? { authScopes: options.authScopes } : {}),
      args: { input: t.arg({ type: options.input, required: true, description: "The mutation's input." }) },
      resolve: async (_root, args, ctx) => {
        const result = await resultOf(options.result.errors, () => options.resolve((args as { input: In }).input, ctx));
        // Rows cached by earlier fields of this request may have just changed.
        forgetRequestReads(ctx);
        const code = (result as { __typename?: string; code?: string }).__typename && (result as { code?: string }).code;
        if (code) ctx.typedErrors.push(code);
        return result as never;
      },
    }),
  );
}
