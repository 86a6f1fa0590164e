import * as E from "../../domain/errors.js";
import * as apiKeys from "../../services/apiKeys.js";
import { builder } from "../builder.js";
import { decodeAccountRef, decodeIdOrThrow } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { ApiKeyPermissionEnum, ApiKeyRef } from "./ApiKey.js";

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  description: "A new API key for an account.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the account (Manager or SubAccount) the key will authenticate as." }),
    name: t.string({ required: true, description: "A name to recognise the key by, up to 100 characters." }),
    permissions: t.field({
      type: [ApiKeyPermissionEnum],
      required: false,
      description:
        "Restrict the key to these permissions; null: everything the account's role may do. A restricted key creates only keys restricted to some of its own permissions (else ForbiddenError).",
    }),
    expiresAt: t.field({
      type: "DateTime",
      required: false,
      description: "When the key stops working (in the future, within 10 years); none: never. A key that expires creates only keys that expire no later.",
    }),
  }),
});

const CreateApiKeySuccess = builder.objectRef<{ apiKey: object; secret: string }>("CreateApiKeySuccess").implement({
  description: "The new key and its secret.",
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, description: "The new key.", resolve: (r) => r.apiKey as never }),
    secret: t.exposeString("secret", { description: "The key's secret. Shown this once; only a hash is kept." }),
  }),
});

defineMutation("createApiKey", {
  action: "apiKey:create",
  description: "Create an API key: a manager for itself and its sub-accounts, a sub-account for itself, an operator for anyone.",
  input: CreateApiKeyInput,
  result: sharedResult(
    "CreateApiKey",
    CreateApiKeySuccess,
    [E.ValidationError, E.NotFoundError, E.ForbiddenError, E.AccountNotActiveError],
    "The result of createApiKey.",
  ),
  resolve: (input, ctx) =>
    apiKeys.createApiKey(ctx.viewer, decodeAccountRef(String(input.accountId)), input.name, input.expiresAt ?? null, input.permissions ?? null),
});

const RevokeApiKeyInput = builder.inputType("RevokeApiKeyInput", {
  description: "The key to revoke.",
  fields: (t) => ({ id: t.id({ required: true, description: "The key's global id." }) }),
});

const RevokeApiKeySuccess = builder.objectRef<object>("RevokeApiKeySuccess").implement({
  description: "The revoked key.",
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef, description: "The key, with `revokedAt` set.", resolve: (k) => k as never }) }),
});

defineMutation("revokeApiKey", {
  action: "apiKey:revoke",
  description: "Revoke an API key at once; requests with it get 401 from then on. Idempotent.",
  input: RevokeApiKeyInput,
  result: sharedResult("RevokeApiKey", RevokeApiKeySuccess, [E.NotFoundError, E.ForbiddenError], "The result of revokeApiKey."),
  resolve: (input, ctx) => apiKeys.revokeApiKey(ctx.viewer, decodeIdOrThrow(String(input.id), ["ApiKey"], "The API key").id),
});

const RollApiKeyInput = builder.inputType("RollApiKeyInput", {
  description: "The key to roll, and how long its current secret keeps working.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The key's global id." }),
    expireCurrentInSeconds: t.int({
      required: false,
      defaultValue: 86_400,
      description: `How long the current secret keeps working, 0 to ${apiKeys.MAX_ROLL_OVERLAP_SECONDS} seconds (7 days; default one day); then it is the same 401 as an unknown key.`,
    }),
  }),
});

const RollApiKeySuccess = builder.objectRef<{ apiKey: object; secret: string; previous: object }>("RollApiKeySuccess").implement({
  description: "The new key, its secret, and the key it replaces.",
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, description: "The new key: the same name, account, permissions and expiry.", resolve: (r) => r.apiKey as never }),
    secret: t.exposeString("secret", { description: "The new secret. Shown this once; only a hash is kept." }),
    previous: t.field({ type: ApiKeyRef, description: "The rolled key, its `expiresAt` now the end of the overlap.", resolve: (r) => r.previous as never }),
  }),
});

defineMutation("rollApiKey", {
  action: "apiKey:roll",
  description:
    "Roll an API key: a new secret with the same name, permissions and expiry, while the current one keeps working for `expireCurrentInSeconds` (so deployments can switch over without downtime).",
  input: RollApiKeyInput,
  result: sharedResult(
    "RollApiKey",
    RollApiKeySuccess,
    [E.NotFoundError, E.ForbiddenError, E.ValidationError, E.AccountNotActiveError],
    "The result of rollApiKey.",
  ),
  resolve: (input, ctx) =>
    apiKeys.rollApiKey(ctx.viewer, decodeIdOrThrow(String(input.id), ["ApiKey"], "The API key").id, input.expireCurrentInSeconds ?? 86_400),
});
