import * as E from "../../domain/errors.js";
import * as apiKeys from "../../services/apiKeys.js";
import { builder } from "../builder.js";
import { decodeAccountRef, decodeIdOrThrow } from "../globalIds.js";
import { defineMutation, sharedResult } from "../mutation.js";
import { ApiKeyRef } from "./ApiKey.js";

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  description: "A new API key for an account.",
  fields: (t) => ({
    accountId: t.id({ required: true, description: "Global id of the account (Manager or SubAccount) the key will authenticate as." }),
    name: t.string({ required: true, description: "A name to recognise the key by, up to 100 characters." }),
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
  resolve: (input, ctx) => apiKeys.createApiKey(ctx.viewer, decodeAccountRef(String(input.accountId)), input.name),
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
