// Bad input gets a clear, typed error and changes nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { errorCodes, gql, gqlData, OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, type TestAccount, uniqueEmail } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";

/**
 * A mutation result narrowed to its member `typename`; fails the test when it is another member.
 * (TypeScript does not narrow a generic union by a check on `__typename`, hence the cast after the check.)
 */
function expectTypename<T extends { __typename: string }, N extends T["__typename"]>(r: T, typename: N): Extract<T, { __typename: N }> {
  if (r.__typename !== typename) throw new Error(`expected a ${typename}, got ${JSON.stringify(r)}`);
  return r as Extract<T, { __typename: N }>;
}

let manager: TestAccount;
let sub: TestAccount;
beforeAll(async () => {
  manager = await createManager();
  sub = await createSubAccount(manager);
});

const CREATE_SUB = graphql(`mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) { __typename
  ... on ValidationError { code message fieldErrors { path message } } ... on Error { code message } } }`);
const SUB_COUNT = graphql(`{ viewer { account { ... on Manager { subAccounts(includeClosed: true) { totalCount } } } } }`);
const subCount = async () => {
  const { account } = (await gqlData(SUB_COUNT, { token: manager.token })).viewer;
  if (!account || !("subAccounts" in account)) throw new Error(`not a manager: ${JSON.stringify(account)}`);
  return account.subAccounts.totalCount;
};

describe("input validation", () => {
  it.each(["not-an-email", "a@", "@b.com", "a b@example.com", ""])("refuses the email %j before anything runs", async (email) => {
    const before = await subCount();
    const res = await gql(CREATE_SUB, { token: manager.token, variables: { input: { email } } });
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.data ?? null).toBeNull();
    expect(await subCount()).toBe(before);
  });

  it.each([
    ["an oversized organization name", "x".repeat(201), "organizationName"],
    ["a NUL character", "Acme\u0000Corp", "organizationName"],
    ["a control character", "Acme\u0007", "organizationName"],
    ["a right-to-left override", "Acme\u202Egnp.exe", "organizationName"],
    ["a blank name", "   ", "organizationName"],
  ])("refuses %s with a ValidationError naming the field, and stores nothing", async (_label, organizationName, field) => {
    const before = await subCount();
    const data = await gqlData(CREATE_SUB, { token: manager.token, variables: { input: { email: uniqueEmail(), organizationName } } });
    expect(data.createSubAccount.__typename).toBe("ValidationError");
    const refused = expectTypename(data.createSubAccount, "ValidationError");
    expect(refused.code).toBe("VALIDATION");
    expect(refused.fieldErrors[0]?.path).toEqual([field]);
    expect(await subCount()).toBe(before);
  });

  it("accepts right-to-left scripts and other unicode in names", async () => {
    const data = await gqlData(CREATE_SUB, { token: manager.token, variables: { input: { email: uniqueEmail(), organizationName: "شركة الاتصالات 東京 ☎" } } });
    expect(data.createSubAccount.__typename).toBe("CreateSubAccountSuccess");
  });

  it.each(["-1", "1e3", "NaN", "0.0000001", "", " 5", "1,000"])("refuses the credit limit %j", async (creditLimit) => {
    const data = await gqlData(CREATE_SUB, { token: manager.token, variables: { input: { email: uniqueEmail(), creditLimit } } });
    expect(data.createSubAccount.__typename).toBe("ValidationError");
    expect(expectTypename(data.createSubAccount, "ValidationError").fieldErrors[0]?.path).toEqual(["creditLimit"]);
  });

  it("stores emails lowercased and treats them as unique across all accounts, whatever the case", async () => {
    const email = uniqueEmail("Mixed").replace("mixed", "MiXeD");
    const first = await gqlData(
      graphql(`mutation($input: CreateSubAccountInput!) { createSubAccount(input: $input) { ... on CreateSubAccountSuccess { subAccount { email } } } }`),
      {
        token: manager.token,
        variables: { input: { email } },
      },
    );
    const created = first.createSubAccount;
    if (!("subAccount" in created)) throw new Error(`expected CreateSubAccountSuccess, got ${JSON.stringify(created)}`);
    expect(created.subAccount.email).toBe(email.toLowerCase());
    const again = await gqlData(CREATE_SUB, { token: manager.token, variables: { input: { email: email.toUpperCase() } } });
    expect(again.createSubAccount).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    // Unique against managers too.
    const asManager = await gqlData(graphql(`mutation($e: EmailAddress!) { createManager(input: { email: $e }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { e: manager.email.toUpperCase() },
    });
    expect(asManager.createManager.__typename).toBe("ConflictError");
  });

  it.each([
    "garbage",
    "",
    Buffer.from("SubAccount:not-a-uuid").toString("base64"),
    Buffer.from("ApiKey:00000000-0000-7000-8000-000000000000").toString("base64"),
  ])("answers a bad or wrong-type id (%j) with NotFoundError", async (id) => {
    const data = await gqlData(graphql(`mutation($id: ID!) { suspendSubAccount(input: { id: $id }) { __typename ... on Error { code } } }`), {
      token: manager.token,
      variables: { id },
    });
    expect(data.suspendSubAccount).toEqual({ __typename: "NotFoundError", code: "NOT_FOUND" });
  });

  it("refuses an API key name that is empty or too long", async () => {
    for (const name of ["", "k".repeat(101)]) {
      const data = await gqlData(
        graphql(
          `mutation($id: ID!, $name: String!) { createApiKey(input: { accountId: $id, name: $name }) { __typename ... on ValidationError { fieldErrors { path } } } }`,
        ),
        {
          token: manager.token,
          variables: { id: sub.id, name },
        },
      );
      expect(data.createApiKey).toEqual({ __typename: "ValidationError", fieldErrors: [{ path: ["name"] }] });
    }
  });

  it("refuses subAccountLimit out of range", async () => {
    const data = await gqlData(graphql(`mutation($e: EmailAddress!) { createManager(input: { email: $e, subAccountLimit: -1 }) { __typename } }`), {
      token: OPERATOR_TOKEN,
      variables: { e: uniqueEmail() },
    });
    expect(data.createManager.__typename).toBe("ValidationError");
  });
});

describe("what a sub-account may change about itself", () => {
  const UPDATE = graphql(`mutation($input: UpdateSubAccountInput!) { updateSubAccount(input: $input) { __typename
    ... on UpdateSubAccountSuccess { subAccount { email organizationName allowCustomPricing creditLimit { amount } } } ... on Error { code message } } }`);

  it("may change its email and organization name", async () => {
    const email = uniqueEmail("self");
    const data = await gqlData(UPDATE, { token: sub.token, variables: { input: { id: sub.id, email, organizationName: "Renamed" } } });
    expect(expectTypename(data.updateSubAccount, "UpdateSubAccountSuccess").subAccount).toMatchObject({ email, organizationName: "Renamed" });
  });

  it("an update mixing allowed and forbidden fields is refused as a whole", async () => {
    // A sub-account's UpdateSubAccountInput has no creditLimit or allowCustomPricing: naming one fails before anything runs.
    const mixed = await gql(UPDATE, { token: sub.token, variables: { input: { id: sub.id, organizationName: "Sneaky", creditLimit: "1000000" } } });
    expect(errorCodes(mixed)).toEqual(["FORBIDDEN"]);
    expect(mixed.body.errors![0]!.message).toBe("UpdateSubAccountInput.creditLimit is not available to your role");
    const custom = await gql(UPDATE, { token: sub.token, variables: { input: { id: sub.id, allowCustomPricing: true } } });
    expect(errorCodes(custom)).toEqual(["FORBIDDEN"]);
    const now = await gqlData(graphql(`{ viewer { account { organizationName ... on SubAccount { allowCustomPricing creditLimit { amount } } } } }`), {
      token: sub.token,
    });
    expect(now.viewer.account).toEqual({ organizationName: "Renamed", allowCustomPricing: false, creditLimit: null });
  });

  it("its manager may set and clear the credit limit, but not both at once", async () => {
    const set = await gqlData(UPDATE, { token: manager.token, variables: { input: { id: sub.id, creditLimit: "25.5" } } });
    expect(expectTypename(set.updateSubAccount, "UpdateSubAccountSuccess").subAccount.creditLimit).toEqual({ amount: "25.500000" });
    const both = await gqlData(UPDATE, { token: manager.token, variables: { input: { id: sub.id, creditLimit: "1", clearCreditLimit: true } } });
    expect(both.updateSubAccount.__typename).toBe("ValidationError");
    const cleared = await gqlData(UPDATE, { token: manager.token, variables: { input: { id: sub.id, clearCreditLimit: true } } });
    expect(expectTypename(cleared.updateSubAccount, "UpdateSubAccountSuccess").subAccount.creditLimit).toBeNull();
  });
});
