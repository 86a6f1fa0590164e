import dns from "node:dns";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { checkWebhookUrl, deliver, generateSigningSecret, isForbiddenAddress, signedHeaders } from "../../src/webhooks/outbound.js";

// Every receiver here listens on 127.0.0.1 and nothing else is contacted: the
// forbidden addresses (10.0.0.1, 169.254.169.254, ...) must be refused before a
// connection is made, which the tests show by the refusal, by the time the call
// takes and, for literals, by a socket connect that throws if it is ever reached.

type ReceivedRequest = { headers: IncomingMessage["headers"]; body: string };
type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;
type Receiver = { url: string; port: number; requests: ReceivedRequest[]; connections: () => number };

const servers: http.Server[] = [];

afterAll(async () => {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((closed) => {
          server.closeAllConnections();
          server.close(() => closed());
        }),
    ),
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function startReceiver(handle: Handler): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let connections = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ headers: request.headers, body });
      handle(request, response, body);
    });
  });
  // TLS attempts (https:// URLs against this plain receiver) count too: a ClientHello is still a connection made.
  server.on("connection", () => {
    connections += 1;
  });
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", () => listening()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, port, requests, connections: () => connections };
}

const answer =
  (status: number, headers: Record<string, string> = {}): Handler =>
  (_request, response) => {
    response.writeHead(status, headers).end();
  };

/** Stands in for the resolver: each call takes the next answer, the last one repeating. */
function resolverAnswers(...answers: string[][]) {
  let call = 0;
  const lookupAll = async (_hostname: string, _options: dns.LookupAllOptions): Promise<dns.LookupAddress[]> => {
    const addresses = answers[Math.min(call, answers.length - 1)]!;
    call += 1;
    return addresses.map((address) => ({ address, family: net.isIP(address) }));
  };
  // The module only ever asks for every address (`all: true`), the one overload this stand-in answers.
  return vi.spyOn(dns.promises, "lookup").mockImplementation(lookupAll as unknown as typeof dns.promises.lookup);
}

/** Fails the test, without any traffic, if a socket connect is attempted at all. */
function forbidConnecting() {
  return vi.spyOn(net.Socket.prototype, "connect").mockImplementation(() => {
    throw new Error("a connection was attempted");
  });
}

const headerText = (headers: IncomingMessage["headers"]): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (typeof value === "string" ? [[name, value]] : [])));

describe("signing", () => {
  it("generates whsec_ secrets of 32 random bytes", () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64")).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(secret);
  });

  it("a receiver verifies the delivery with standardwebhooks' own Webhook#verify, body and headers as received", async () => {
    const receiver = await startReceiver(answer(200));
    const secret = generateSigningSecret();
    const payload = { type: "account.created", data: { id: "acc_1", name: "Zoë ✓" } };
    const body = JSON.stringify(payload);
    const timestamp = new Date();
    const headers = signedHeaders(secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp, body);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

    const outcome = await deliver({ url: receiver.url, body, headers }, { allowInsecure: true });

    expect(outcome).toMatchObject({ ok: true, status: 200 });
    const [received] = receiver.requests;
    expect(received!.body).toBe(body);
    expect(received!.headers["content-type"]).toBe("application/json");
    expect(received!.headers["user-agent"]).toBe("account-gateway-webhooks/1");
    expect(new Webhook(secret).verify(received!.body, headerText(received!.headers))).toEqual(payload);
    expect(() => new Webhook(generateSigningSecret()).verify(received!.body, headerText(received!.headers))).toThrow(/signature/i);
    expect(() => new Webhook(secret).verify(`${received!.body} `, headerText(received!.headers))).toThrow(/signature/i);
  });
});

describe("checkWebhookUrl", () => {
  it.each([
    ["http://example.com/hooks", "must use https"],
    ["http://localhost:8080/hooks", "must use https"],
    ["ftp://93.184.216.34/hooks", "must use https"],
    ["not a url", "not a valid URL"],
    ["", "not a valid URL"],
    ["https://user:pass@93.184.216.34/hooks", "user name or password"],
    ["https://user@93.184.216.34/hooks", "user name or password"],
    ["https://10.0.0.1/", "points to a private network address"],
    ["https://172.16.0.1", "points to a private network address"],
    ["https://192.168.1.1", "points to a private network address"],
    ["https://[fc00::1]/", "points to a private network address"],
    ["https://169.254.169.254/latest/meta-data", "points to a link-local address"],
    ["https://[fe80::1]/", "points to a link-local address"],
    ["https://127.0.0.1/", "points to a loopback address"],
    ["https://[::1]/", "points to a loopback address"],
    ["https://[::ffff:127.0.0.1]/", "points to a loopback address"],
    // WHATWG URL parsing turns these spellings into 127.0.0.1 before anything looks at them.
    ["https://0x7f.1/", "points to a loopback address"],
    ["https://2130706433/", "points to a loopback address"],
    ["https://localhost/", "host name does not resolve to a public internet address"],
    ["https://0.0.0.0", "points to an unspecified address"],
    ["https://[::]/", "points to an unspecified address"],
    ["https://100.64.0.1", "points to a carrier-grade NAT address"],
    ["https://224.0.0.1", "points to a multicast address"],
    ["https://255.255.255.255", "points to a broadcast address"],
    ["https://192.0.2.1", "points to a reserved or special-purpose address"],
    ["https://[::ffff:10.0.0.1]/", "points to a private network address"],
    ["https://[64:ff9b::10.0.0.1]/", "points to a private network address"],
    ["https://[2002:a00:1::1]/", "points to a private network address"],
    ["https://[::127.0.0.1]/", "points to a reserved address"],
  ])("refuses %j without allowInsecure (%s)", async (url, reason) => {
    const verdict = await checkWebhookUrl(url, { allowInsecure: false });
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.reason).toContain(reason);
    expect(verdict.reason.length).toBeLessThan(80);
  });

  it("accepts a public address literal, classifying it without contacting it", async () => {
    const connect = forbidConnecting();
    const verdict = await checkWebhookUrl("https://93.184.216.34/hooks?tenant=1", { allowInsecure: false });
    expect(verdict).toEqual({ ok: true, url: new URL("https://93.184.216.34/hooks?tenant=1") });
    expect((await checkWebhookUrl("https://[2606:4700:4700::1111]/hooks", { allowInsecure: false })).ok).toBe(true);
    expect(connect).not.toHaveBeenCalled();
  });

  it("accepts a name only when every address it resolves to is public", async () => {
    resolverAnswers(["93.184.216.34", "2606:4700:4700::1111"]);
    expect((await checkWebhookUrl("https://hooks.example.com/in", { allowInsecure: false })).ok).toBe(true);
    vi.restoreAllMocks();
    resolverAnswers(["93.184.216.34", "10.0.0.1"]);
    expect(await checkWebhookUrl("https://hooks.example.com/in", { allowInsecure: false })).toEqual({
      ok: false,
      reason: "The webhook URL's host name does not resolve to a public internet address.",
    });
  });

  it("refuses a name that does not resolve, without the resolver's own error text", async () => {
    vi.spyOn(dns.promises, "lookup").mockRejectedValue(Object.assign(new Error("getaddrinfo ENOTFOUND hooks.example.invalid"), { code: "ENOTFOUND" }));
    expect(await checkWebhookUrl("https://hooks.example.invalid/in", { allowInsecure: false })).toEqual({
      ok: false,
      reason: "The webhook URL's host name does not resolve to a public internet address.",
    });
  });

  it("with allowInsecure accepts http and loopback", async () => {
    const receiver = await startReceiver(answer(200));
    expect((await checkWebhookUrl(receiver.url, { allowInsecure: true })).ok).toBe(true);
    expect((await checkWebhookUrl(`http://localhost:${receiver.port}/hooks`, { allowInsecure: true })).ok).toBe(true);
    expect((await checkWebhookUrl(`http://[::1]:${receiver.port}/hooks`, { allowInsecure: true })).ok).toBe(true);
    expect(receiver.connections()).toBe(0);
  });

  it.each([
    ["http://10.0.0.1/", "private network address"],
    ["http://169.254.169.254/latest/meta-data", "link-local address"],
    ["http://[::ffff:169.254.169.254]/latest/meta-data", "link-local address"],
    ["http://0.0.0.0:8080/", "unspecified address"],
    ["http://100.64.0.1/", "carrier-grade NAT address"],
    ["ftp://127.0.0.1/", "must use http or https"],
  ])("with allowInsecure still refuses %j (%s)", async (url, reason) => {
    const verdict = await checkWebhookUrl(url, { allowInsecure: true });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain(reason);
  });
});

describe("isForbiddenAddress", () => {
  it("lets public unicast through and names what it refuses", () => {
    expect(isForbiddenAddress("93.184.216.34", false)).toBeNull();
    expect(isForbiddenAddress("2606:4700:4700::1111", false)).toBeNull();
    expect(isForbiddenAddress("64:ff9b::93.184.216.34", false)).toBeNull();
    expect(isForbiddenAddress("127.0.0.1", false)).toBe("Webhooks cannot be sent to a loopback address.");
    expect(isForbiddenAddress("10.1.2.3", false)).toBe("Webhooks cannot be sent to a private network address.");
    expect(isForbiddenAddress("not-an-address", false)).toBe("Webhooks cannot be sent to an address that is not a valid IP address.");
  });

  it("with allowInsecure lets loopback through and nothing else", () => {
    expect(isForbiddenAddress("127.0.0.1", true)).toBeNull();
    expect(isForbiddenAddress("127.255.0.9", true)).toBeNull();
    expect(isForbiddenAddress("::1", true)).toBeNull();
    expect(isForbiddenAddress("::ffff:127.0.0.1", true)).toBeNull();
    expect(isForbiddenAddress("10.0.0.1", true)).not.toBeNull();
    expect(isForbiddenAddress("169.254.169.254", true)).not.toBeNull();
    expect(isForbiddenAddress("fe80::1%eth0", true)).not.toBeNull();
  });
});

describe("deliver", () => {
  const message = (url: string) => ({ url, body: '{"type":"ping"}', headers: signedHeaders(generateSigningSecret(), "msg_1", new Date(), '{"type":"ping"}') });

  it("is ok for a 2xx", async () => {
    const receiver = await startReceiver(answer(204));
    const outcome = await deliver(message(receiver.url), { allowInsecure: true });
    expect(outcome).toEqual({ ok: true, status: 204, durationMs: expect.any(Number) });
    expect(receiver.requests).toHaveLength(1);
  });

  it("reaches a name through the guarded lookup when it resolves to allowed addresses", async () => {
    const receiver = await startReceiver(answer(200));
    const outcome = await deliver(message(`http://localhost:${receiver.port}/hooks`), { allowInsecure: true });
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(receiver.requests[0]!.headers.host).toBe(`localhost:${receiver.port}`);
  });

  it("is not ok for a 500, with the status", async () => {
    const receiver = await startReceiver(answer(500));
    expect(await deliver(message(receiver.url), { allowInsecure: true })).toEqual({
      ok: false,
      status: 500,
      error: "http_status",
      durationMs: expect.any(Number),
    });
  });

  it("does not follow a redirect", async () => {
    const target = await startReceiver(answer(200));
    const redirecting = await startReceiver(answer(302, { location: target.url }));
    const outcome = await deliver(message(redirecting.url), { allowInsecure: true });
    expect(outcome).toMatchObject({ ok: false, status: 302, error: "redirect" });
    await new Promise((waited) => setTimeout(waited, 100));
    expect(redirecting.requests).toHaveLength(1);
    expect(target.connections()).toBe(0);
  });

  it("times out at timeoutMs on a receiver that never answers", async () => {
    const receiver = await startReceiver(() => {});
    const started = performance.now();
    const outcome = await deliver(message(receiver.url), { allowInsecure: true, timeoutMs: 500 });
    const elapsed = performance.now() - started;
    expect(outcome).toMatchObject({ ok: false, status: null, error: "timeout" });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(1_500);
    expect(receiver.requests).toHaveLength(1);
  });

  it("cuts off a receiver that streams its body forever, and closes the connection", async () => {
    let sent = 0;
    let streamClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      streamClosed = resolve;
    });
    const chunk = Buffer.alloc(16 * 1024, "x");
    const receiver = await startReceiver((_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.on("close", streamClosed);
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) sent += chunk.byteLength;
        if (!response.destroyed) response.once("drain", pump);
      };
      pump();
    });
    const started = performance.now();
    const outcome = await deliver(message(receiver.url), { allowInsecure: true, timeoutMs: 10_000, maxResponseBytes: 64 * 1024 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    await closed;
    // The receiver got ahead only by what the socket buffers hold, nowhere near "forever".
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });

  it("reports a receiver that is not listening as a connection failure", async () => {
    const gone = http.createServer();
    await new Promise<void>((listening) => gone.listen(0, "127.0.0.1", () => listening()));
    const { port } = gone.address() as AddressInfo;
    await new Promise((closed) => gone.close(closed));
    expect(await deliver(message(`http://127.0.0.1:${port}/hooks`), { allowInsecure: true })).toMatchObject({
      ok: false,
      status: null,
      error: "connection_failed",
    });
  });

  it("without allowInsecure refuses http://127.0.0.1 and http://localhost before the receiver sees anything", async () => {
    const receiver = await startReceiver(answer(200));
    const connect = forbidConnecting();
    expect(await deliver(message(receiver.url), { allowInsecure: false })).toMatchObject({ ok: false, status: null, error: "refused_url" });
    expect(await deliver(message(`http://localhost:${receiver.port}/hooks`), { allowInsecure: false })).toMatchObject({ ok: false, error: "refused_url" });
    expect(await deliver(message(`https://127.0.0.1:${receiver.port}/hooks`), { allowInsecure: false })).toMatchObject({ ok: false, error: "refused_address" });
    expect(connect).not.toHaveBeenCalled();
    expect(receiver.connections()).toBe(0);
  });

  it.each(["http://10.0.0.1/hooks", "http://169.254.169.254/latest/meta-data", "https://[::ffff:10.0.0.1]/hooks"])(
    "with allowInsecure still refuses %s without connecting",
    async (url) => {
      const connect = forbidConnecting();
      const started = performance.now();
      expect(await deliver(message(url), { allowInsecure: true })).toMatchObject({ ok: false, status: null, error: "refused_address" });
      expect(performance.now() - started).toBeLessThan(100);
      expect(connect).not.toHaveBeenCalled();
    },
  );

  it("refuses at connect a name that resolves to loopback (https://localhost), the receiver seeing no connection", async () => {
    const receiver = await startReceiver(answer(200));
    const outcome = await deliver(message(`https://localhost:${receiver.port}/hooks`), { allowInsecure: false });
    expect(outcome).toMatchObject({ ok: false, status: null, error: "refused_address" });
    expect(receiver.connections()).toBe(0);
  });

  it("checks the address it connects to, not the one the URL check saw (DNS rebinding)", async () => {
    const receiver = await startReceiver(answer(200));
    // The name is localhost so that, were the guard bypassed, nothing but this machine could be reached.
    const lookup = resolverAnswers(["93.184.216.34"], ["127.0.0.1"]);
    const url = `https://localhost:${receiver.port}/hooks`;
    expect((await checkWebhookUrl(url, { allowInsecure: false })).ok).toBe(true);
    expect(await deliver(message(url), { allowInsecure: false })).toMatchObject({ ok: false, status: null, error: "refused_address" });
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(receiver.connections()).toBe(0);
  });

  it("reports a name that does not resolve at delivery", async () => {
    vi.spyOn(dns.promises, "lookup").mockRejectedValue(Object.assign(new Error("getaddrinfo ENOTFOUND localhost"), { code: "ENOTFOUND" }));
    expect(await deliver(message("http://localhost:9/hooks"), { allowInsecure: true })).toMatchObject({ ok: false, status: null, error: "unresolvable" });
  });
});
