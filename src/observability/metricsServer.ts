import cluster from "node:cluster";
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from "prom-client";
import type { MetricsConfig } from "../config.js";

// The metrics listener: its own port (METRICS_PORT), bound to an internal
// address by default, optionally behind a bearer token. It is not the API
// port, so neither API callers nor the API's rate limits or CORS are involved.
//
// With WEB_CONCURRENCY workers the primary listens and asks every worker for
// its registry over the cluster's IPC channel, then sums them
// (AggregatorRegistry.aggregate): one scrape covers the whole server. The
// exchange is our own rather than AggregatorRegistry.clusterMetrics(), whose
// primary throws (and dies) when a worker answers after its 5 s timeout.

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

/** Prometheus text of the whole server: this process's registry, or every worker's summed. */
export type CollectMetrics = () => Promise<string>;

export function startMetricsServer(config: MetricsConfig, collect: CollectMetrics): Promise<MetricsListener> {
  const expected = config.token ? digest(`Bearer ${config.token}`) : undefined;
  const server: Server = createServer((req, res) => {
    const path = req.url?.split("?")[0];
    if (path !== "/metrics") return void res.writeHead(404).end();
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405, { allow: "GET, HEAD" }).end();
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) {
      return void res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"' }).end();
    }
    collect().then(
      (text) => res.writeHead(200, { "content-type": Registry.PROMETHEUS_CONTENT_TYPE }).end(req.method === "HEAD" ? undefined : text),
      () => res.writeHead(503).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : config.port;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      resolve({
        url: `http://${host}:${port}/metrics`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

// Hashing both sides gives equal lengths for timingSafeEqual, whatever was sent.
const digest = (text: string) => createHash("sha256").update(text).digest();

type Metrics = MetricObjectWithValues<MetricValue<string>>[];

const REQUEST = "gateway:metrics-request";
const RESPONSE = "gateway:metrics-response";

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  metrics: Metrics | null;
}

/** In a worker: answer the primary's requests for this registry's metrics. */
export function serveMetricsToPrimary(registry: Registry): void {
  process.on("message", (message: MetricsRequest) => {
    if (message?.type !== REQUEST) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: RESPONSE, id: message.id, metrics } satisfies MetricsResponse),
      () => process.send?.({ type: RESPONSE, id: message.id, metrics: null } satisfies MetricsResponse),
    );
  });
}

/**
 * In the primary: the workers' metrics, summed. A worker that does not answer
 * within `timeoutMs` (busy, or just dying) is left out of that scrape rather
 * than failing it; its counters come back with it on the next.
 */
export function workerMetricsCollector(timeoutMs = 3000): CollectMetrics {
  let nextId = 0;
  const pending = new Map<number, { answers: Metrics[]; waiting: number; finish: () => void }>();
  cluster.on("message", (_worker, message: MetricsResponse) => {
    if (message?.type !== RESPONSE) return;
    const request = pending.get(message.id);
    if (!request) return; // answered after its scrape's timeout
    if (message.metrics) request.answers.push(message.metrics);
    if (--request.waiting === 0) request.finish();
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
      const request = {
        answers: [] as Metrics[],
        waiting: workers.length,
        finish: () => {
          clearTimeout(timer);
          pending.delete(id);
          try {
            resolve(AggregatorRegistry.aggregate(request.answers).metrics());
          } catch (error) {
            reject(error);
          }
        },
      };
      const timer = setTimeout(() => request.finish(), timeoutMs);
      pending.set(id, request);
      for (const worker of workers) worker!.send({ type: REQUEST, id } satisfies MetricsRequest);
      if (workers.length === 0) request.finish();
    });
}
