// A small Pothos plugin: each field of the account tree says, where it is
// defined, what it reads of its parent's row, so the plain-SQL lists
// (src/read/) can read only those columns, and which SQL list it is, so a
// page of parents can read that list along in its own statement.
//
//   email: t.expose("email", ...)                          reads ["email"] (derived)
//   creditLimit: t.field({ reads: ["creditLimitMicros"], ... })
//   phoneNumbers: t.connection({ readsList: PHONE_NUMBERS, ... })   reads [] (the parent's id)
//
// The plugin puts both on the GraphQL field's extensions (`reads`,
// `readsList`), where read/columns.ts and read/prefetch.ts find them on the
// type the executor resolves. A field that declares nothing makes a list
// read whole rows (always correct, never narrow), and
// test/read/columns.test.ts fails for any field of a list's item types that
// declares nothing, so a new field cannot fall off the fast path unnoticed.
import SchemaBuilder, {
  BasePlugin,
  type FieldNullability,
  type InputFieldMap,
  type PothosOutputFieldConfig,
  type SchemaTypes,
  type TypeParam,
} from "@pothos/core";
import type { ReadsExtensions } from "../read/columns.js";
import type { ListField } from "../read/lists.js";

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      reads: ReadsPlugin<Types>;
    }
    export interface FieldOptions<
      Types extends SchemaTypes = SchemaTypes,
      ParentShape = unknown,
      Type extends TypeParam<Types> = TypeParam<Types>,
      Nullable extends FieldNullability<Type> = FieldNullability<Type>,
      Args extends InputFieldMap = InputFieldMap,
      ResolveShape = unknown,
      ResolveReturnShape = unknown,
    > {
      /**
       * The columns of the parent row the field's resolver reads (Prisma
       * field names). Exposed fields read their own column without saying so.
       */
      reads?: readonly (keyof ParentShape & string)[];
      /** The plain-SQL list the field resolves (read/lists.ts), read along with a page of its parents. */
      // biome-ignore lint/suspicious/noExplicitAny: any list of the table; its own resolver uses its real types
      readsList?: ListField<any, any>;
    }
  }
}

export class ReadsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const options = fieldConfig.pothosOptions as { reads?: readonly string[]; readsList?: ReadsExtensions["readsList"] };
    const exposed = fieldConfig.extensions?.pothosExposedField;
    // A list hangs off its parent's id, which every row it can hang off keeps.
    const reads = options.reads ?? (typeof exposed === "string" ? [exposed] : options.readsList ? [] : undefined);
    if (!reads && !options.readsList) return fieldConfig;
    const declared: ReadsExtensions = { ...(reads && { reads }), ...(options.readsList && { readsList: options.readsList }) };
    return { ...fieldConfig, extensions: { ...fieldConfig.extensions, ...declared } };
  }
}

SchemaBuilder.registerPlugin("reads", ReadsPlugin);
