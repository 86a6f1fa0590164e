// A small Pothos plugin for least-privilege keys (DOMAIN.md "Least-privilege
// keys"): a field says, where it is defined, which API key permission reading
// it needs.
//
//   events: t.prismaConnection({ permission: "EVENTS_READ", ... })
//
// The plugin puts it on the GraphQL field's extensions (`permission`), where
// schema/roleSchemas.ts leaves the field out of the schema of every key
// without it (so introspection does not show it and naming it fails
// validation), and wraps the resolver so that it refuses such a key too: the
// second line, should a document ever run against a wider schema. Types
// whose rows all need one permission say so in their `extensions` the same
// way, and lose every field that leads to them. Mutations need the
// permission of their action (auth/actions.ts) instead.
//
// test/security/permissionFamilies.test.ts walks the schema and fails for a
// field that leads to a permission's rows without declaring it, so a new
// field cannot open a way around a restriction unnoticed.
import SchemaBuilder, {
  BasePlugin,
  type FieldNullability,
  type InputFieldMap,
  type PothosOutputFieldConfig,
  type SchemaTypes,
  type TypeParam,
} from "@pothos/core";
import { GraphQLError, type GraphQLFieldResolver } from "graphql";
import { missingPermissionMessage, type Permission } from "../auth/actions.js";
import { holds } from "../auth/viewer.js";
import type { Context } from "../context.js";

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      permissions: PermissionsPlugin<Types>;
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
      /** The API key permission reading this field needs (none: every key of a role that has the field may read it). */
      permission?: Permission;
    }
  }
}

/** The FORBIDDEN error of a field a restricted key may not read. */
export const missingPermissionError = (permission: Permission) =>
  new GraphQLError(missingPermissionMessage(permission), { extensions: { code: "FORBIDDEN", permission } });

const permissionOf = (fieldConfig: { pothosOptions: object }) => (fieldConfig.pothosOptions as { permission?: Permission }).permission;

/** A resolver (or subscriber) that first refuses a key without `permission`; the resolver itself when there is none. */
function guarded<C>(resolve: GraphQLFieldResolver<unknown, C, object>, permission: Permission | undefined): GraphQLFieldResolver<unknown, C, object> {
  if (!permission) return resolve;
  return (parent, args, context, info) => {
    if (!holds((context as Context).viewer, permission)) throw missingPermissionError(permission);
    return resolve(parent, args, context, info);
  };
}

export class PermissionsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const permission = permissionOf(fieldConfig);
    return permission ? { ...fieldConfig, extensions: { ...fieldConfig.extensions, permission } } : fieldConfig;
  }

  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types["Context"], object>, fieldConfig: PothosOutputFieldConfig<Types>) {
    return guarded(resolver, permissionOf(fieldConfig));
  }

  override wrapSubscribe(subscribe: GraphQLFieldResolver<unknown, Types["Context"], object> | undefined, fieldConfig: PothosOutputFieldConfig<Types>) {
    return subscribe && guarded(subscribe, permissionOf(fieldConfig));
  }
}

SchemaBuilder.registerPlugin("permissions", PermissionsPlugin);
