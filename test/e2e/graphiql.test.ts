// A person's first look, in a real browser: GraphiQL from /graphql (no CDN,
// compressed, under its Content-Security-Policy), a manager key entered once
// in the first tab's Headers; the docs explorer follows the key without a
// reload, the account tree tab runs with the same key, and nothing of it is
// in localStorage. Then a sub-account key, whose docs have no pricing, and
// which reaches the other tabs and a new tab too. Screenshots of each step go
// to test-artifacts/ (not committed).
//
// The page script and the delivery come from useGraphiQLDelivery()
// (src/http/graphiqlDelivery.ts), which must be registered in src/yoga.ts.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { TadaDocumentNode } from "gql.tada";
import { print } from "graphql";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { graphql } from "../helpers/graphql.js";
import { killServers, projectRoot, startServer } from "../helpers/server.js";

const artifacts = path.join(projectRoot, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OPERATOR_TOKEN = `op_e2e_${Date.now()}`;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  killServers();
});

/** The only root field of a typed document's result, from the started server over HTTP. */
async function api<R extends object, V>(base: string, token: string, query: TadaDocumentNode<R, V>, variables: V): Promise<R[keyof R]> {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(query), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`request failed (${res.status}): ${JSON.stringify(body)}`);
  return Object.values(body.data)[0] as R[keyof R];
}

/** The success member of a mutation's result union (the one with `key`), or a thrown error. */
function success<T extends object, K extends string>(result: T, key: K): Extract<T, Record<K, unknown>> {
  if (!(key in result)) throw new Error(`expected a result with ${key}, got ${JSON.stringify(result)}`);
  // Truthful: `key in result` held, and only the success member has `key`.
  return result as Extract<T, Record<K, unknown>>;
}

/** Replaces the Headers editor's text the way a person pastes a key. */
async function enterKey(page: Page, key: string) {
  await page.getByRole("button", { name: "Headers" }).click();
  const editor = page.locator(".graphiql-editor-tool .graphiql-editor").last();
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${key}` }));
  // No press of "Re-fetch GraphQL schema": the page refetches on its own.
}

/** The text the Headers editor shows. */
async function headersText(page: Page) {
  await page.getByRole("button", { name: "Headers" }).click();
  const text = await page.locator(".graphiql-editor-tool .graphiql-editor").last().locator(".view-lines").innerText();
  return text.replace(/\u00a0/g, " ");
}

/** Opens the docs explorer unless it is open. */
async function showDocs(page: Page) {
  const show = page.getByRole("button", { name: "Show Documentation Explorer" });
  if (await show.isVisible()) await show.click();
}

/** Everything the page keeps in Web Storage. */
const webStorage = (page: Page) => page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));

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

/** The response as text, its lines joined: the editor wraps long lines (an email) where it likes. */
const responseText = async (page: Page) => (await page.locator(".graphiql-response").innerText()).replace(/\n\s*/g, "");

// CI installs Chromium (.ci/run) and must not skip this; elsewhere it runs when Chromium is there.
if (process.env.CI && !existsSync(CHROMIUM)) throw new Error(`Chromium is required in CI at ${CHROMIUM}`);

describe.skipIf(!existsSync(CHROMIUM))("GraphiQL in a browser", () => {
  it("shares one key across tabs, follows it in the docs without a reload, keeps it out of storage", async () => {
    mkdirSync(artifacts, { recursive: true });
    const base = (await startServer({ OPERATOR_TOKEN })).baseUrl;
    const created = await api(
      base,
      OPERATOR_TOKEN,
      graphql(`mutation($e: EmailAddress!) { createManager(input: { email: $e, organizationName: "Acme" }) { ... on CreateManagerSuccess { secret } } }`),
      {
        e: `e2e-${Date.now()}@acme.example`,
      },
    );
    const managerKey = success(created, "secret").secret;
    const subEmail = `customer-${Date.now()}@clinic.example`;
    const sub = await api(
      base,
      managerKey,
      graphql(
        `mutation($e: EmailAddress!) { createSubAccount(input: { email: $e, organizationName: "Clinic" }) { ... on CreateSubAccountSuccess { subAccount { id } } } }`,
      ),
      { e: subEmail },
    );
    const subKey = success(
      await api(
        base,
        managerKey,
        graphql(`mutation($id: ID!) { createApiKey(input: { accountId: $id, name: "e2e" }) { ... on CreateApiKeySuccess { secret } } }`),
        {
          id: success(sub, "subAccount").subAccount.id,
        },
      ),
      "secret",
    ).secret;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) outside.push(r.url());
    });
    // Whatever the Content-Security-Policy blocks, in the page or in its workers.
    const blocked: string[] = [];
    const watchConsole = (message: { text(): string }) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) blocked.push(message.text());
    };
    page.on("console", watchConsole);
    page.on("worker", (worker) => worker.on("console", watchConsole));
    page.on("pageerror", (error) => blocked.push(`page error: ${error.message}`));

    const opened = await page.goto(`${base}/graphql`, { waitUntil: "networkidle" });
    await page.screenshot({ path: path.join(artifacts, "1-graphiql-opened.png") });
    expect(outside).toEqual([]);
    // Delivered by useGraphiQLDelivery (src/yoga.ts must register it).
    const delivered = await opened!.allHeaders();
    expect(delivered["content-encoding"], "useGraphiQLDelivery() is not registered in src/yoga.ts").toBe("br");
    expect(delivered["content-security-policy"]).toContain("script-src 'sha256-");
    expect(delivered["cache-control"]).toBe("no-cache");
    expect(await page.evaluate(() => typeof (window as unknown as { gatewayGraphiQL?: unknown }).gatewayGraphiQL)).toBe("function");

    // The manager: the key goes into the first tab (Viewer) only.
    expect(await page.locator(".graphiql-tab-active").innerText()).toContain("Viewer");
    await enterKey(page, managerKey);

    // The docs explorer follows the key, with no reload and no Re-fetch press: it knows pricing.
    await showDocs(page);
    const docsText = () => page.locator(".graphiql-doc-explorer").innerText();
    await expect.poll(docsText, { timeout: 30_000 }).toMatch(/\bPriceList\b/);
    const search = page.locator(".graphiql-doc-explorer-search input");
    await search.fill("pricing");
    await expect.poll(docsText, { timeout: 15_000 }).toMatch(/SubAccount\.pricing/);
    expect(await docsText()).toMatch(/Manager\.pricing/);
    await page.screenshot({ path: path.join(artifacts, "2-manager-docs-pricing.png") });
    await search.fill("");
    await page.keyboard.press("Escape");

    // A second tab, whose Headers nobody touched, has the key and runs the tree.
    await selectTab(page, "AccountTree");
    expect(await headersText(page)).toContain(managerKey);
    await page.getByRole("button", { name: /Execute query/ }).click();
    await expect.poll(() => responseText(page), { timeout: 30_000 }).toContain(subEmail);
    await page.screenshot({ path: path.join(artifacts, "3-manager-tree-second-tab.png") });
    expect(await responseText(page)).toMatch(/"totalCount":\s*1\b/);

    // Nothing of the key in Web Storage, though GraphiQL has stored its tabs by now.
    // (GraphiQL writes its tab state 500 ms after a change.)
    await page.waitForTimeout(1500);
    let stored = await webStorage(page);
    expect(stored).toContain("graphiql:tabState");
    expect(stored).not.toContain(managerKey);
    expect(stored).not.toContain("Bearer");
    expect(JSON.parse(stored).session).toEqual({});

    // The sub-account: its key, entered in this tab, changes the docs to its schema (no pricing at all) ...
    await enterKey(page, subKey);
    await showDocs(page);
    await expect
      .poll(
        async () => {
          const text = await docsText();
          return /\bSubAccount\b/.test(text) && !/\bPriceList\b/.test(text);
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(await docsText()).not.toMatch(/\bLedgerEntry\b|\bPricingSource\b/);
    await search.fill("pricing");
    await expect.poll(docsText, { timeout: 15_000 }).toMatch(/SubAccount\.allowCustomPricing/);
    await page.screenshot({ path: path.join(artifacts, "4-sub-account-docs-no-pricing.png") });
    expect(await docsText()).not.toMatch(/\b(Manager|SubAccount)\.pricing\b/);
    await search.fill("");
    await page.keyboard.press("Escape");

    // ... and reaches the first tab, which now answers as the sub-account.
    await selectTab(page, "Viewer");
    expect(await headersText(page)).toContain(subKey);
    await page.getByRole("button", { name: /Execute query/ }).click();
    await expect.poll(() => responseText(page), { timeout: 30_000 }).toContain(subEmail);
    expect(await responseText(page)).toContain('"SUB_ACCOUNT"');
    await page.screenshot({ path: path.join(artifacts, "5-sub-account-viewer-first-tab.png") });

    // A new tab starts with the same key.
    await page.getByRole("button", { name: "New tab" }).click();
    await expect.poll(() => headersText(page), { timeout: 10_000 }).toContain(subKey);
    await page.screenshot({ path: path.join(artifacts, "6-new-tab-same-key.png") });

    await page.waitForTimeout(1000);
    stored = await webStorage(page);
    expect(stored).not.toContain(subKey);
    expect(stored).not.toContain(managerKey);

    // What an earlier version of the page stored (headers persisted) is scrubbed at the next visit.
    await page.evaluate((key) => {
      const headers = JSON.stringify({ Authorization: `Bearer ${key}` });
      localStorage.setItem("graphiql:headers", headers);
      localStorage.setItem(
        "graphiql:tabState",
        JSON.stringify({
          activeTabIndex: 0,
          tabs: [{ id: "a", title: "Old", query: "{ __typename }", variables: null, headers, operationName: null, response: null }],
        }),
      );
      localStorage.setItem("graphiql:queries", JSON.stringify({ queries: [{ query: "{ __typename }", headers }] }));
    }, OPERATOR_TOKEN);
    await page.reload({ waitUntil: "networkidle" });
    await page.waitForTimeout(1000);
    stored = await webStorage(page);
    expect(stored).not.toContain(OPERATOR_TOKEN);
    expect(stored).toContain("Old");

    expect(outside).toEqual([]);
    expect(blocked).toEqual([]);
  }, 300_000);
});
