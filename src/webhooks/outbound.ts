import { randomBytes } from "node:crypto";
import dns, { type LookupAddress, type LookupOptions } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import ipaddr from "ipaddr.js";
import { Webhook } from "standardwebhooks";

// The outbound half of signed webhooks: signing (Standard Webhooks), the check
// of a receiver's URL when it is saved, and the delivery itself.
//
// A webhook URL is chosen by a customer and fetched by the gateway, so every
// delivery is a request the customer aims from inside our network (SSRF): the
// address actually connected to must be public unicast. Checking the URL when
// it is saved is not enough, because the name can resolve elsewhere by the
// time of delivery (DNS rebinding), so `deliver` resolves the name exactly once,
// inside the connection (the `lookup` hook of node:http/node:https), checks
// every answer and connects only to the checked addresses. That is a few lines
// over node's own request; `request-filtering-agent` does the same through an
// Agent but would add a dependency for what `lookup` already gives us.
//
// `allowInsecure` exists for development and tests, whose receivers run on the
// same machine: it allows plain http and loopback addresses (127.0.0.0/8, ::1,
// `localhost`), nothing else. Private, link-local (the cloud metadata service
// at 169.254.169.254), CGNAT and the other special ranges stay refused, since
// a development machine can sit on a network whose neighbours matter too.

/** A checked webhook URL, or why it was refused (a sentence fit for a validation message). */
export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Short codes for a delivery that did not get a 2xx: they go into delivery records and metrics labels. */
export type DeliveryError = "refused_url" | "refused_address" | "unresolvable" | "connection_failed" | "timeout" | "redirect" | "http_status";

/**
 * What one delivery attempt came to. `status` is null when no response headers
 * arrived; a timeout after the headers keeps the status it got, but is not ok.
 */
export type DeliveryOutcome = { ok: boolean; status: number | null; durationMs: number; error?: DeliveryError };

export type DeliveryRequest = { url: string; body: string; headers: Record<string, string> };

export type DeliveryOptions = { allowInsecure: boolean; timeoutMs?: number; maxResponseBytes?: number };

const USER_AGENT = "account-gateway-webhooks/1";
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** A new Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64 (the key length of HMAC-SHA256). */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/**
 * The Standard Webhooks headers for one message, so receivers can verify it with
 * any Standard Webhooks library. The signature covers the id and timestamp as
 * well as the body, which is what lets a receiver refuse replays.
 */
export function signedHeaders(secret: string, messageId: string, timestamp: Date, body: string): Record<string, string> {
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(messageId, timestamp, body),
  };
}

/**
 * Why the gateway must not connect to `address`, as a sentence, or null when it
 * is public unicast. `allowInsecure` lets loopback through (local development)
 * and nothing else. The one classification for both URL checks and connections.
 */
export function isForbiddenAddress(address: string, allowInsecure: boolean): string | null {
  const kind = forbiddenKind(address, allowInsecure);
  return kind && `Webhooks cannot be sent to ${kind}.`;
}

/**
 * Whether `url` may be saved as a webhook receiver: https (or http with
 * `allowInsecure`), no credentials in it, and a host that is, or resolves only
 * to, addresses `isForbiddenAddress` lets through. Delivery checks the address
 * again when it connects; this check is so a bad URL is refused when it is saved.
 */
/** The reason for every refused host name (see checkWebhookUrl). */
export const NAME_REFUSED = "The webhook URL's host name does not resolve to a public internet address.";

export async function checkWebhookUrl(url: string, options: { allowInsecure: boolean }): Promise<UrlVerdict> {
  const parsed = parseWebhookUrl(url, options.allowInsecure);
  if (!parsed.ok) return parsed;
  const host = hostOf(parsed.url);
  if (isIP(host)) {
    const kind = forbiddenKind(host, options.allowInsecure);
    return kind ? { ok: false, reason: `The webhook URL points to ${kind}.` } : parsed;
  }
  // One answer for a name that does not resolve and one that resolves to a
  // forbidden address: otherwise any tenant could map the gateway's internal
  // DNS (which names exist, and that they are private).
  const resolved = await resolve(host);
  if (!resolved.ok || resolved.addresses.some(({ address }) => forbiddenKind(address, options.allowInsecure))) {
    return { ok: false, reason: NAME_REFUSED };
  }
  return parsed;
}

/**
 * POSTs one signed message and reports how it went; never throws for anything
 * the network or the receiver does. The receiver is untrusted: the address is
 * checked as the connection is made, redirects are not followed, the whole
 * exchange is bounded by `timeoutMs` and at most `maxResponseBytes` of the
 * response are read, so no receiver can hold a worker.
 */
export function deliver(request: DeliveryRequest, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const started = performance.now();
  const finish = (outcome: Omit<DeliveryOutcome, "durationMs">): DeliveryOutcome => ({ ...outcome, durationMs: Math.round(performance.now() - started) });

  const parsed = parseWebhookUrl(request.url, options.allowInsecure);
  if (!parsed.ok) return Promise.resolve(finish({ ok: false, status: null, error: "refused_url" }));
  const url = parsed.url;
  const host = hostOf(url);
  // Node connects to an IP literal without calling `lookup`, so the literal is checked here instead.
  if (isIP(host) && forbiddenKind(host, options.allowInsecure)) return Promise.resolve(finish({ ok: false, status: null, error: "refused_address" }));

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const body = Buffer.from(request.body, "utf8");
  const send = url.protocol === "https:" ? https.request : http.request;

  return new Promise((settle) => {
    let settled = false;
    let status: number | null = null;
    const done = (outcome: Omit<DeliveryOutcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Destroying (not ending) closes the socket whatever the receiver is still sending.
      outgoing.destroy();
      settle(finish(outcome));
    };
    const byStatus = (code: number) => (code >= 200 && code < 300 ? { ok: true, status: code } : { ok: false, status: code, error: "http_status" as const });

    const outgoing = send({
      protocol: url.protocol,
      // `hostname` (not an address) keeps the Host header and TLS SNI the customer's name; `lookup` picks the address.
      hostname: host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: "POST",
      headers: {
        ...request.headers,
        "content-type": "application/json",
        "content-length": String(body.byteLength),
        "user-agent": USER_AGENT,
      },
      lookup: guardedLookup(options.allowInsecure),
      // A fresh connection per delivery: a pooled socket would skip `lookup`, and the receiver's keep-alive is no reason to hold one.
      agent: false,
    });

    // One timer for connect, headers and body alike; a slow body counts as much as a silent receiver.
    const timer = setTimeout(() => done({ ok: false, status, error: "timeout" }), timeoutMs);

    outgoing.on("error", (error) => {
      if (error instanceof RefusedAddressError) done({ ok: false, status: null, error: "refused_address" });
      else if (error instanceof UnresolvableHostError) done({ ok: false, status: null, error: "unresolvable" });
      else if (status === null) done({ ok: false, status: null, error: "connection_failed" });
      // A connection lost while the body was being read still got its answer in the status.
      else done(byStatus(status));
    });

    outgoing.on("response", (response: IncomingMessage) => {
      const code = response.statusCode ?? 0;
      status = code;
      if (code >= 300 && code < 400) {
        done({ ok: false, status: code, error: "redirect" });
        return;
      }
      // The body is read (so a receiver that answers in full is not cut off) but not kept: the status is the answer.
      let received = 0;
      response.on("data", (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received >= maxResponseBytes) done(byStatus(code));
      });
      response.on("end", () => done(byStatus(code)));
      // A receiver that closes mid-body has still answered with its status.
      response.on("close", () => done(byStatus(code)));
      response.on("error", () => done(byStatus(code)));
    });

    outgoing.end(body);
  });
}

/** The checks that need no network: a URL at all, its scheme, and no credentials. */
function parseWebhookUrl(raw: string, allowInsecure: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "The webhook URL is not a valid URL." };
  }
  const schemeAllowed = url.protocol === "https:" || (allowInsecure && url.protocol === "http:");
  if (!schemeAllowed) return { ok: false, reason: allowInsecure ? "Webhook URLs must use http or https." : "Webhook URLs must use https." };
  if (url.username || url.password) return { ok: false, reason: "Webhook URLs must not contain a user name or password." };
  if (!url.hostname) return { ok: false, reason: "The webhook URL has no host." };
  return { ok: true, url };
}

/** The URL's host as node's resolver and socket take it: IPv6 literals without their brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

type Resolution = { ok: true; addresses: LookupAddress[] } | { ok: false };

/** Every address `host` resolves to. Resolver errors are dropped: their text names our resolver, not the customer's mistake. */
async function resolve(host: string, options: LookupOptions = {}): Promise<Resolution> {
  try {
    // Through the module object, so a test can stand in for the resolver.
    const addresses = await dns.promises.lookup(host, { ...options, all: true });
    return addresses.length > 0 ? { ok: true, addresses } : { ok: false };
  } catch {
    return { ok: false };
  }
}

class RefusedAddressError extends Error {}
class UnresolvableHostError extends Error {}

/**
 * A `lookup` for node:net that resolves once, refuses the connection if any
 * answer is forbidden, and hands back only checked addresses, so the address
 * connected to is the address checked. Node 20 asks for every address
 * (`all: true`) when it races IPv4 and IPv6, and for one otherwise.
 */
function guardedLookup(allowInsecure: boolean): LookupFunction {
  return (hostname, options, callback) => {
    void resolve(hostname, { family: options.family, hints: options.hints }).then((resolved) => {
      if (!resolved.ok) {
        callback(new UnresolvableHostError("The webhook host name does not resolve."), "");
        return;
      }
      const refused = resolved.addresses.find(({ address }) => forbiddenKind(address, allowInsecure));
      if (refused) {
        callback(new RefusedAddressError("The webhook host name resolves to a forbidden address."), "");
        return;
      }
      const [first] = resolved.addresses;
      if (options.all) callback(null, resolved.addresses);
      else callback(null, first!.address, first!.family);
    });
  };
}

// NAT64's well-known prefix (RFC 6052) carries an IPv4 address in its last 32
// bits; 64:ff9b:1::/48 (RFC 8215) is for local translators and is refused whole.
const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96");
// Global unicast IPv6 is allocated from 2000::/3 only; ipaddr.js calls the
// rest of the unlisted space (such as the deprecated IPv4-compatible ::/96) unicast too.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

const KIND_BY_RANGE: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private network address",
  uniqueLocal: "a private network address",
  linkLocal: "a link-local address",
  unspecified: "an unspecified address",
  multicast: "a multicast address",
  broadcast: "a broadcast address",
  carrierGradeNat: "a carrier-grade NAT address",
};

/** The kind of forbidden address `address` is, as a noun phrase, or null when it is allowed. */
function forbiddenKind(address: string, allowInsecure: boolean): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns IPv4-mapped IPv6 (::ffff:127.0.0.1) into the IPv4 address it stands for.
    parsed = ipaddr.process(address);
  } catch {
    return "an address that is not a valid IP address";
  }
  if (parsed instanceof ipaddr.IPv6) {
    const embedded = embeddedIPv4(parsed);
    if (embedded) return forbiddenKind(embedded, allowInsecure);
    const range = parsed.range();
    if (range === "unicast" && !parsed.match(GLOBAL_UNICAST_V6)) return "a reserved address";
    return rangeKind(range, allowInsecure);
  }
  return rangeKind(parsed.range(), allowInsecure);
}

function rangeKind(range: string, allowInsecure: boolean): string | null {
  if (range === "unicast") return null;
  if (range === "loopback" && allowInsecure) return null;
  return KIND_BY_RANGE[range] ?? "a reserved or special-purpose address";
}

/** The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address reaches, which is what decides. */
function embeddedIPv4(address: ipaddr.IPv6): string | null {
  const bytes = address.toByteArray();
  if (address.match(NAT64_WELL_KNOWN)) return ipaddr.fromByteArray(bytes.slice(12, 16)).toString();
  if (address.range() === "6to4") return ipaddr.fromByteArray(bytes.slice(2, 6)).toString();
  return null;
}
