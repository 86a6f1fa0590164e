import { createGraphQLError } from "@graphql-tools/utils";
import type { Plugin } from "graphql-yoga";

// The request body limit (413 past it), in place of Yoga's own
// `maxRequestBodySize`. Yoga's check pipes every body through a
// TransformStream into a new Request, even when the body's Content-Length
// already bounds it: an abort signal, a stream pipeline and its AbortError
// per request, a quarter of the CPU of a small request (docs/benchmarks.md).
// Node's HTTP parser hands the server exactly the declared number of bytes,
// so a declared length within the limit is all the check needs; only a body
// without one (chunked) is counted as it arrives.

const DECLARED_LENGTH = /^\d+$/;

const bodyTooLarge = () => createGraphQLError("Request body too large", { extensions: { http: { status: 413 }, code: "REQUEST_ENTITY_TOO_LARGE" } });

/** Refuses request bodies over `limit` bytes with 413, and a malformed Content-Length with 400. */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get("content-length");
      if (declared != null) {
        // One non-negative integer, nothing else (no lists, signs or spaces: request smuggling).
        if (!DECLARED_LENGTH.test(declared)) {
          throw createGraphQLError("Content-Length header is invalid.", { extensions: { http: { status: 400 }, code: "BAD_REQUEST" } });
        }
        if (Number(declared) > limit) throw bodyTooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (received) => {
        const body = await readAtMost(received.body!, limit);
        return parse(new fetchAPI.Request(received.url, { method: received.method, headers: received.headers, signal: received.signal, body }));
      });
    },
  };
}

/** The whole of a body sent without a declared length, refused as soon as it passes `limit` bytes. */
async function readAtMost(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      await reader.cancel();
      throw bodyTooLarge();
    }
    chunks.push(value);
  }
  const whole = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.byteLength;
  }
  return whole;
}
