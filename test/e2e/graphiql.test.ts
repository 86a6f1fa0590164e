// A person's first look, in a real browser: GraphiQL from /graphql (no CDN),
// a manager key entered in the Headers tab, the account tree run; then a
// sub-account key, whose docs explorer has no pricing. Screenshots of each
// step go to test-artifacts/ (not committed).
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { killServers, projectRoot, startServer } from "../helpers/server.js";

const artifacts = path.join(projectRoot, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OPERATOR_TOKEN = "op_e2e_" + Date.now();
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  killServers();
});

async function api(base: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return Object.values(((await res.json()) as { data: Record<string, any> }).data)[0];
}

/** Replaces the Headers editor's text the way a person pastes a key. */
async function enterKey(page: Page, key: string) {
  await page.getByRole("button", { name: "Headers" }).click();
  const editor = page.locator(".graphiql-editor-tool .graphiql-editor").last();
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${key}` }));
  await page.getByRole("button", { name: /Re-fetch GraphQL schema/ }).click();
}

/**
 * Selects a GraphiQL tab as a person does. The tabs are a drag-reorderable
 * list that can miss a press while it settles, so press until it is active.
 */
async function selectTab(page: Page, name: string) {
  for (let attempt = 0; attempt < 10; attempt++) {
    if ((await page.locator(".graphiql-tab-active").innerText()).includes(name)) return;
    const box = await page.locator(".graphiql-tab", { hasText: name }).boundingBox();
    await page.mouse.move(box!.x + 20, box!.y + box!.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForTimeout(300);
  }
  throw new Error(`could not select the ${name} tab`);
}

const responseText = (page: Page) => page.locator(".graphiql-response").innerText();

// CI installs Chromium (.ci/run) and must not skip this; elsewhere it runs when Chromium is there.
if (process.env.CI && !existsSync(CHROMIUM)) throw new Error(`Chromium is required in CI at ${CHROMIUM}`);

describe.skipIf(!existsSync(CHROMIUM))("GraphiQL in a browser", () => {
  it("runs the account tree with a manager key, and hides pricing from a sub-account's docs", async () => {
    mkdirSync(artifacts, { recursive: true });
    const base = (await startServer({ OPERATOR_TOKEN })).baseUrl;
    const created = await api(base, OPERATOR_TOKEN, `mutation($e: EmailAddress!) { createManager(input: { email: $e, organizationName: "Acme" }) { ... on CreateManagerSuccess { secret } } }`, {
      e: `e2e-${Date.now()}@acme.example`,
    });
    const managerKey = created.secret as string;
    const subEmail = `customer-${Date.now()}@clinic.example`;
    const sub = await api(base, managerKey, `mutation($e: EmailAddress!) { createSubAccount(input: { email: $e, organizationName: "Clinic" }) { ... on CreateSubAccountSuccess { subAccount { id } } } }`, { e: subEmail });
    const subKey = (await api(base, managerKey, `mutation($id: ID!) { createApiKey(input: { accountId: $id, name: "e2e" }) { ... on CreateApiKeySuccess { secret } } }`, { id: sub.subAccount.id })).secret as string;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) outside.push(r.url());
    });
    await page.goto(`${base}/graphql`, { waitUntil: "networkidle" });
    await page.screenshot({ path: path.join(artifacts, "1-graphiql-opened.png") });
    expect(outside).toEqual([]);

    // The manager: open the account tree tab, enter the key, run.
    await selectTab(page, "AccountTree");
    await enterKey(page, managerKey);
    await page.getByRole("button", { name: /Execute query/ }).click();
    await page.screenshot({ path: path.join(artifacts, "2-manager-tree.png") });
    await expect.poll(() => responseText(page), { timeout: 30_000 }).toContain(subEmail);
    await page.screenshot({ path: path.join(artifacts, "2-manager-tree.png") });
    expect(await responseText(page)).toMatch(/"totalCount":\s*1\b/);

    // The manager's docs explorer knows pricing.
    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    const docsText = () => page.locator(".graphiql-doc-explorer").innerText();
    await expect.poll(docsText, { timeout: 15_000 }).toMatch(/\bPriceList\b/);
    const search = page.locator(".graphiql-doc-explorer-search input");
    await search.fill("pricing");
    await expect.poll(() => page.locator(".graphiql-doc-explorer").innerText(), { timeout: 15_000 }).toMatch(/SubAccount\.pricing/);
    expect(await page.locator(".graphiql-doc-explorer").innerText()).toMatch(/Manager\.pricing/);
    await page.screenshot({ path: path.join(artifacts, "3-manager-docs-pricing.png") });
    await search.fill("");
    await page.keyboard.press("Escape");

    // The sub-account: its schema has no pricing at all.
    await enterKey(page, subKey);
    // The docs now show the sub-account's schema: its type list has no PriceList ...
    await expect
      .poll(async () => { const text = await docsText(); return /\bSubAccount\b/.test(text) && !/\bPriceList\b/.test(text); }, { timeout: 30_000 })
      .toBe(true);
    expect(await docsText()).not.toMatch(/\bLedgerEntry\b|\bPricingSource\b/);
    // ... and the same search finds no price field.
    await search.fill("pricing");
    await expect.poll(docsText, { timeout: 15_000 }).toMatch(/SubAccount\.allowCustomPricing/);
    await page.screenshot({ path: path.join(artifacts, "4-sub-account-docs-no-pricing.png") });
    expect(await docsText()).not.toMatch(/\b(Manager|SubAccount)\.pricing\b/);
    expect(outside).toEqual([]);
  }, 300_000);
});
