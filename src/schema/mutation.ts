import type { InputObjectRef, ObjectRef } from "@pothos/core";
import { GraphQLError } from "graphql";
import { type Action, authScopesOf } from "../auth/actions.js";
import type { Context } from "../context.js";
import { type DomainError, ValidationError } from "../domain/errors.js";
import { unstorableTextIn } from "../domain/text.js";
import { eventsCommitted } from "../events/wakeups.js";
import { forgetRequestReads } from "../read/requestCache.js";
import { type BuilderTypes, builder } from "./builder.js";
import { resultOf, resultUnion } from "./errors.js";

type ErrorClass = abstract new (...args: never[]) => DomainError;

/** A union shared by several mutations (e.g. suspend and reactivate). */
export function sharedResult<S extends object>(name: string, success: ObjectRef<BuilderTypes, S>, errors: readonly ErrorClass[], description: string) {
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
    input: InputObjectRef<BuilderTypes, In>;
    result: { union: unknown; errors: readonly ErrorClass[] };
    resolve: (input: In, ctx: Context) => Promise<object>;
    /** What it does, in auth/actions.ts: the roles without it neither see it in their schema nor may call it. */
    action: Action;
  },
): void {
  builder.mutationField(name, (t) =>
    t.field({
      type: options.result.union as never,
      description: options.description,
      authScopes: authScopesOf(options.action),
      extensions: { action: options.action },
      args: { input: t.arg({ type: options.input, required: true, description: "The mutation's input." }) },
      resolve: async (_root, args, ctx) => {
        const { input } = args as { input: In };
        const result = await resultOf(options.result.errors, () => {
          // Text no field can take (a lone surrogate, a NUL), wherever it is in the input: one typed answer for every mutation.
          const unstorable = unstorableTextIn(input);
          if (unstorable.length) {
            // A result union without ValidationError (e.g. suspendSubAccount, whose only input is an id) answers as a query would.
            if (options.result.errors.includes(ValidationError)) throw new ValidationError(unstorable);
            throw new GraphQLError(`input.${unstorable[0]!.path.join(".")} ${unstorable[0]!.message}`, { extensions: { code: "BAD_USER_INPUT" } });
          }
          return options.resolve(input, ctx);
        });
        // Rows cached by earlier fields of this request may have just changed.
        forgetRequestReads(ctx);
        // Its events have committed (a refusal may have written one too, e.g. at the credit limit): wake their readers.
        eventsCommitted();
        const code = (result as { __typename?: string; code?: string }).__typename && (result as { code?: string }).code;
        if (code) ctx.typedErrors.push(code);
        return result as never;
      },
    }),
  );
}
