import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { type GraphQLObjectType, isInputObjectType, isInterfaceType, isObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { parseGlobalId } from "../src/schema/globalIds.js";
import { schema } from "../src/schema/index.js";
import { printedSchemas } from "../src/schema/printed.js";
import { buildRoleSchemas } from "../src/schema/roleSchemas.js";
import { GRAPHQL_ENV_FILE, graphqlEnvText } from "./helpers/graphqlEnv.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("schema.graphql", () => {
  it("schema.graphql, schemas/*.graphql and the typed-document schema are current: run `npm run schema` after changing the schema", () => {
    for (const [file, text] of Object.entries(printedSchemas())) {
      expect(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"), file).toBe(text);
    }
    expect(readFileSync(new URL(`../${GRAPHQL_ENV_FILE}`, import.meta.url), "utf8"), GRAPHQL_ENV_FILE).toBe(graphqlEnvText());
  });

  it("serves each role its own schema: a sub-account's has no manager-only or pricing field", () => {
    const roles = buildRoleSchemas(schema);
    const sub = roles.SUB_ACCOUNT;
    const subAccount = sub.getType("SubAccount");
    if (!isObjectType(subAccount)) throw new Error("the sub-account schema has no SubAccount object type");
    expect(subAccount.getFields().manager).toBeUndefined();
    expect(subAccount.getFields().managerEmail).toBeDefined();
    expect(sub.getQueryType()!.getFields().managers).toBeUndefined();
    expect(sub.getMutationType()!.getFields().createManager).toBeUndefined();
    const manager = roles.MANAGER;
    const managersSubAccount = manager.getType("SubAccount");
    if (!isObjectType(managersSubAccount)) throw new Error("the manager schema has no SubAccount object type");
    expect(managersSubAccount.getFields().manager).toBeDefined();
    expect(manager.getMutationType()!.getFields().createManager).toBeUndefined();
    expect(manager.getMutationType()!.getFields().createSubAccount).toBeDefined();
    expect(roles.OPERATOR.getMutationType()!.getFields().createManager).toBeDefined();
  });

  it("describes every type, field, argument and input field", () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith("__")) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (!field.description) missing.push(`${type.name}.${field.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.skipIf(!existsSync(`${root}/../shared/tools/contract-coverage.mjs`))("holds every contract item it implements so far", () => {
    let output = "";
    try {
      output = execFileSync("node", ["../shared/tools/contract-coverage.mjs", "schema.graphql"], { cwd: root, encoding: "utf8" });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
    }
    // Everything above the contract's "Next capabilities" section is built: none of it may be missing.
    // Items that section defines (events, webhooks, triggers, least-privilege keys, acting as) come with their issues.
    const contract = readFileSync(`${root}/../shared/contract.graphql`, "utf8");
    const marker = contract.indexOf("# Next capabilities");
    const next = marker < 0 ? "" : contract.slice(marker);
    // What it defines: whole types ("type X"), and fields added to types ("X.y", also through `extend`).
    const pendingItems = new Set<string>();
    for (const m of next.matchAll(/^(?:type|input|enum|union|scalar|interface)\s+(\w+)/gm)) pendingItems.add(`type ${m[1]}`);
    for (const m of next.matchAll(/^(?:extend\s+)?(?:type|interface|input)\s+(\w+)[^{]*\{([^}]*)\}/gm)) {
      for (const field of m[2]!.replace(/#.*$/gm, "").matchAll(/^\s*(\w+)\s*[:(]/gm)) pendingItems.add(`${m[1]}.${field[1]}`);
    }
    // Least-privilege keys also widen an input written above the section.
    for (const item of ["CreateApiKeyInput.permissions", "CreateApiKeyInput.expiresAt"]) pendingItems.add(item);
    const missing = output.split("\n").filter((l) => l.startsWith("missing:"));
    const pending = (line: string) => pendingItems.has(line.replace(/^missing: /, ""));
    expect(missing.filter((line) => !pending(line))).toEqual([]);
  });
});

describe("node ids", () => {
  it("every Node type's id (but LedgerEntry's) resolves synchronously to the relay plugin's global id of its row", () => {
    const rowId = "0195f3a0-8c1e-7b2a-9d4e-5f6a7b8c9d0e";
    const nodeTypes = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === "Node"));
    expect(nodeTypes.map((t) => t.name).sort()).toEqual([
      "ApiKey",
      "AuditEvent",
      "Event",
      "LedgerEntry",
      "Manager",
      "PhoneNumber",
      "SubAccount",
      "UsageRecord",
      "UsageTrigger",
      "WebhookDelivery",
      "WebhookEndpoint",
    ]);
    // LedgerEntry has its own auth scopes, which the plugin's resolver checks: it keeps that one.
    for (const type of nodeTypes.filter((t) => t.name !== "LedgerEntry")) {
      const id = (type as GraphQLObjectType).getFields().id!.resolve!({ id: rowId }, {}, {}, {} as never);
      expect(id).toBe(encodeGlobalID(type.name, rowId));
      expect(parseGlobalId(id as string)).toEqual({ typename: type.name, id: rowId });
    }
  });
});
