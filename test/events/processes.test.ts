// Events across real gateway processes (issue: events and webhooks):
// - kill -9 of the server while a delivery is in flight: the event is
//   delivered after the restart (embedded database);
// - two processes on one Postgres: every event reaches the receiver, none
//   twice to a receiver that answers 2xx;
// - a subscriber on one process gets what another process commits, through
//   Postgres LISTEN/NOTIFY and through Redis.
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { OPERATOR_TOKEN } from "../helpers/app.js";
import { createManager, createSubAccount, setAccountPricing, topUp, unique, uniqueEmail } from "../helpers/factories.js";
import { graphql } from "../helpers/graphql.js";
import { startReceiver } from "../helpers/receiver.js";
import { postGraphQL } from "../helpers/remote.js";
import { killServers, startServer } from "../helpers/server.js";
import { subscribe } from "../helpers/sse.js";

const databaseUrl = process.env.TEST_DATABASE_URL;
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
afterAll(killServers);

const INSECURE = { WEBHOOK_ALLOW_INSECURE: "true", WEBHOOK_RETRY_DELAYS_MS: "200,200,200,200,200,200" };
const CREATE_MANAGER = graphql(`mutation($input: CreateManagerInput!) { createManager(input: $input) {
  __typename ... on CreateManagerSuccess { secret manager { id } } ... on Error { code message } } }`);
const CREATE_ENDPOINT = graphql(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on CreateWebhookEndpointSuccess { signingSecret endpoint { id } } ... on Error { code message } } }`);
const TOP_UP = graphql(`mutation($input: TopUpBalanceInput!) { topUpBalance(input: $input) { __typename ... on Error { code message } } }`);
const CHARGE = graphql(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { __typename ... on Error { code } } }`);
const EVENTS = graphql(`subscription { events(types: [USAGE_RECORDED]) { id data } }`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

describe("webhooks across restarts and processes", () => {
  it("delivers after a restart an event whose delivery was in flight at kill -9", async () => {
    // The first request never gets an answer: the server is killed while it waits.
    let hang = true;
    const server = await startServer({ OPERATOR_TOKEN, METRICS_PORT: "off", ...INSECURE });
    const created = (await postGraphQL(server.baseUrl, OPERATOR_TOKEN, CREATE_MANAGER, { input: { email: uniqueEmail("m"), organizationName: "Acme" } })).body
      .data?.createManager;
    if (created?.__typename !== "CreateManagerSuccess") throw new Error(JSON.stringify(created));
    // A receiver that holds the connection open without answering (a slow receiver at the moment of the crash).
    const silent = net.createServer((socket) => {
      if (!hang) socket.end("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/hooks`;
    const endpoint = await postGraphQL(server.baseUrl, created.secret, CREATE_ENDPOINT, {
      input: { accountId: created.manager.id, url: silentUrl, eventTypes: ["BALANCE_TOPPED_UP"] },
    });
    expect(endpoint.body.data?.createWebhookEndpoint.__typename).toBe("CreateWebhookEndpointSuccess");
    const topUp = await postGraphQL(server.baseUrl, OPERATOR_TOKEN, TOP_UP, {
      input: { accountId: created.manager.id, amount: "5", idempotencyKey: unique("t") },
    });
    expect(topUp.body.data?.topUpBalance.__typename).toBe("TopUpBalanceSuccess");
    // Wait until the delivery is in flight (the silent receiver holds a connection), then kill.
    const started = Date.now();
    let connections = 0;
    silent.on("connection", () => connections++);
    while (connections === 0 && Date.now() - started < 10_000) await sleep(20);
    expect(connections).toBe(1);
    await server.stop("SIGKILL");
    hang = false;
    const restartedAt = Date.now();
    const again = await startServer({ OPERATOR_TOKEN, METRICS_PORT: "off", DATA_DIR: server.dataDir, ...INSECURE });
    // The lease of the killed process runs out (20 s at most), and the new one sends it again.
    while (connections < 2 && Date.now() - restartedAt < 40_000) await sleep(50);
    expect(connections).toBe(2);
    console.log(`webhook after kill -9: delivered again ${Date.now() - restartedAt} ms after the restart`);
    await again.stop();
    silent.close();
  }, 120_000);

  it.skipIf(!databaseUrl)(
    "two processes deliver every event, none twice to a receiver that answers 2xx",
    async () => {
      const receiver = await startReceiver(() => 200);
      const env = { DATABASE_URL: databaseUrl!, OPERATOR_TOKEN, METRICS_PORT: "off", ...INSECURE };
      const [a, b] = await Promise.all([startServer(env, 90_000), startServer(env, 90_000)]);
      const manager = await createManager();
      await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
      const sub = await createSubAccount(manager);
      await topUp(sub.id, "100", manager.token);
      const endpoint = await postGraphQL(a.baseUrl, manager.token, CREATE_ENDPOINT, {
        input: { accountId: manager.id, url: receiver.url, eventTypes: ["USAGE_RECORDED"] },
      });
      expect(endpoint.body.data?.createWebhookEndpoint.__typename).toBe("CreateWebhookEndpointSuccess");
      const charges = 60;
      const results = await Promise.all(
        Array.from({ length: charges }, (_, i) =>
          postGraphQL(i % 2 ? a.baseUrl : b.baseUrl, sub.token, CHARGE, {
            input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("two") },
          }),
        ),
      );
      expect(results.filter((r) => r.body.data?.recordUsage.__typename === "RecordUsageSuccess")).toHaveLength(charges);
      await receiver.waitFor(charges, 30_000);
      await sleep(1500);
      const ids = receiver.received.map((hook) => hook.headers["webhook-id"]);
      expect(ids).toHaveLength(charges);
      expect(new Set(ids).size).toBe(charges);
      console.log(`two processes: ${charges} charges, ${receiver.received.length} webhook requests, ${new Set(ids).size} distinct events`);
      await Promise.all([a.stop(), b.stop()]);
      await receiver.close();
    },
    180_000,
  );
});

describe("subscriptions across processes", async () => {
  const redis = await redisReachable();
  const cases: { name: string; run: boolean; env: Record<string, string> }[] = [
    { name: "Postgres LISTEN/NOTIFY", run: Boolean(databaseUrl), env: {} },
    { name: "Redis", run: Boolean(databaseUrl) && redis, env: { REDIS_URL } },
  ];
  for (const { name, run, env } of cases) {
    it.skipIf(!run)(
      `a subscriber on one process gets what another commits, through ${name}`,
      async () => {
        const common = { DATABASE_URL: databaseUrl!, OPERATOR_TOKEN, METRICS_PORT: "off", RATE_LIMIT_NAMESPACE: unique("ns"), ...env };
        const [a, b] = await Promise.all([startServer(common, 90_000), startServer(common, 90_000)]);
        const manager = await createManager();
        await setAccountPricing(manager.id, { SMS_OUTBOUND: "0.01" });
        const sub = await createSubAccount(manager);
        await topUp(sub.id, "10", manager.token);
        const stream = subscribe(EVENTS, {}, manager.token, a.baseUrl);
        expect(await stream.status).toBe(200);
        await sleep(300);
        const sentAt = Date.now();
        for (let i = 0; i < 5; i++) {
          await postGraphQL(b.baseUrl, sub.token, CHARGE, { input: { accountId: sub.id, product: "SMS_OUTBOUND", quantity: 1, idempotencyKey: unique("x") } });
        }
        await stream.waitFor(5, 10_000);
        const latency = Date.now() - sentAt;
        stream.close();
        console.log(`subscription across processes (${name}): 5 events in ${latency} ms`);
        // Woken, not only polled: well under the one-second poll per event.
        expect(latency).toBeLessThan(5_000);
        await Promise.all([a.stop(), b.stop()]);
      },
      180_000,
    );
  }
});
