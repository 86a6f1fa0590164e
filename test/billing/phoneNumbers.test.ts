// Provisioning a number records one PHONE_NUMBER_MONTHLY usage and charges it
// like any usage; a transfer charges nothing; monthlyPrice is a price.
import { describe, expect, it } from "vitest";
import { prisma } from "../../src/db/client.js";
import { gql, gqlData } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, uniquePhoneNumber } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { PROVISION, TRANSFER as TRANSFER_NUMBER } from "../phoneNumbers/operations.js";
import { balanceOf, dbId, expectInvariants, fieldOf, result, resultOfType, withheld } from "./operations.js";

// Straight through the API, without the phone-number tests' automatic funding.
const provision = (token: string, accountId: string) => gql(PROVISION, { token, variables: { input: { accountId, number: uniquePhoneNumber() } } });

async function managerPaying(monthly: string, funds: string) {
  const manager = await createManager();
  await setAccountPricing(manager.id, { PHONE_NUMBER_MONTHLY: monthly });
  if (funds !== "0") await topUp(manager.id, funds);
  return manager;
}

describe("phone number charges", () => {
  it("charges one PHONE_NUMBER_MONTHLY usage, keyed by the number, from the paying balance", async () => {
    const manager = await managerPaying("2", "5");
    const sub = await createSubAccount(manager, { rollupBilling: true });
    const r = resultOfType(await provision(sub.token, sub.id), "ProvisionPhoneNumberSuccess");
    expect(await balanceOf(manager.token, sub.id)).toMatchObject({ available: { amount: "3.000000" }, totalSpent: { amount: "2.000000" } });
    const records = await gqlData(
      graphql(`query($id: ID!) { node(id: $id) { ... on Account { usageRecords { nodes { product quantity idempotencyKey cost { amount } } } } } }`),
      {
        token: manager.token,
        variables: { id: sub.id },
      },
    );
    expect(fieldOf(records.node, "usageRecords").nodes).toEqual([
      { product: "PHONE_NUMBER_MONTHLY", quantity: 1, idempotencyKey: `phoneNumber:${r.phoneNumber.id}`, cost: { amount: "2.000000" } },
    ]);
    await expectInvariants([manager.id, sub.id]);
  });

  it("refuses a number the balance or the credit limit cannot pay for, and provisions nothing", async () => {
    const manager = await managerPaying("2", "1");
    expect(result(await provision(manager.token, manager.id))).toMatchObject({ __typename: "InsufficientFundsError" });
    const capped = await createSubAccount(manager, { creditLimit: "1.5" });
    await topUp(capped.id, "10", manager.token);
    expect(result(await provision(manager.token, capped.id))).toMatchObject({ __typename: "CreditLimitExceededError", code: "CREDIT_LIMIT_EXCEEDED" });
    expect(await prisma.phoneNumber.count({ where: { accountId: { in: [dbId(manager.id), dbId(capped.id)] } } })).toBe(0);
    expect(await prisma.usageRecord.count({ where: { accountId: { in: [dbId(manager.id), dbId(capped.id)] } } })).toBe(0);
    await expectInvariants([manager.id, capped.id]);
  });

  it("charges nothing for a transfer; monthlyPrice is the effective rate of the number's account, hidden from sub-accounts", async () => {
    const manager = await managerPaying("2", "10");
    const custom = await createSubAccount(manager, { rollupBilling: true, allowCustomPricing: true });
    await setAccountPricing(custom.id, { PHONE_NUMBER_MONTHLY: "0.5" });
    const number = resultOfType(await provision(manager.token, manager.id), "ProvisionPhoneNumberSuccess").phoneNumber;
    const moved = result(await gql(TRANSFER_NUMBER, { token: manager.token, variables: { input: { id: number.id, toAccountId: custom.id } } }));
    expect(moved.__typename).toBe("TransferPhoneNumberSuccess");
    expect((await balanceOf(manager.token, manager.id))?.available?.amount).toBe("8.000000");
    const price = graphql(`query($id: ID!) { node(id: $id) { ... on PhoneNumber { monthlyPrice { amount } } } }`);
    expect(fieldOf((await gqlData(price, { token: manager.token, variables: { id: number.id } })).node, "monthlyPrice")?.amount).toBe("0.500000");
    const asSub = await gql(price, { token: custom.token, variables: { id: number.id } });
    expect(withheld(asSub)).toBe(true);
    expect(JSON.stringify(asSub.body.data ?? null)).not.toContain("0.500000");
    await expectInvariants([manager.id, custom.id]);
  });
});
