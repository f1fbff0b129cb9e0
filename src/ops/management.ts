/**
 * The opt-in management listener ([metrics] in each daemon's config): one
 * HTTP server, loopback by default, serving
 *
 *   GET /metrics      Prometheus exposition (metrics/exporter.ts)
 *   GET /             the live status page (page/assets.ts)
 *   GET /api/status   the page's data: the snapshot and the throughput history
 *
 * It has no authentication and changes nothing: bind it to loopback or a
 * management network. Bounded: at most MAX_CONNECTIONS sockets, requests
 * time out, only GET and HEAD; the snapshot is taken per request, the
 * throughput sampled every SAMPLE_INTERVAL_MS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { MetricsExporter } from './metrics/exporter.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page/assets.js';
import { ThroughputHistory } from './page/history.js';
import { throughputSeries } from './page/series.js';
import type { DaemonSnapshot, SnapshotProvider } from './snapshot.js';

export const SAMPLE_INTERVAL_MS = 2000;
/** Five minutes of points per series. */
const HISTORY_POINTS = 150;
const MAX_CONNECTIONS = 32;
const REQUEST_TIMEOUT_MS = 10_000;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

export interface ManagementOptions {
  address: string;
  port: number;
  /** Process metrics (prom-client's defaults); off in tests that start several listeners in one process. */
  processMetrics?: boolean;
}

export interface ManagementListener {
  readonly port: number;
  readonly history: ThroughputHistory;
  close(): Promise<void>;
}

interface Route {
  type: string;
  body: (snapshot: () => DaemonSnapshot) => string | Promise<string>;
}

function routes(exporter: MetricsExporter, history: ThroughputHistory): Record<string, Route> {
  return {
    '/metrics': { type: exporter.contentType, body: (snapshot) => exporter.render(snapshot()) },
    '/': { type: 'text/html; charset=utf-8', body: () => PAGE_HTML },
    '/status.js': { type: 'text/javascript; charset=utf-8', body: () => PAGE_JS },
    '/status.css': { type: 'text/css; charset=utf-8', body: () => PAGE_CSS },
    '/api/status': {
      type: 'application/json',
      body: (snapshot) => JSON.stringify({ snapshot: snapshot(), history: history.snapshot(), windowMs: HISTORY_POINTS * SAMPLE_INTERVAL_MS }),
    },
  };
}

function reply(response: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(head ? undefined : body);
}

export async function startManagementListener(options: ManagementOptions, snapshot: SnapshotProvider, role: DaemonSnapshot['role'], log: Logger): Promise<ManagementListener> {
  const exporter = new MetricsExporter(role, { processMetrics: options.processMetrics ?? true });
  const history = new ThroughputHistory(HISTORY_POINTS);
  const table = routes(exporter, history);
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) return reply(response, 405, 'text/plain', 'only GET and HEAD\n', false);
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === '/favicon.ico') return reply(response, 204, 'image/x-icon', '', head);
    const route = Object.hasOwn(table, path) ? table[path] : undefined;
    if (!route) return reply(response, 404, 'text/plain', 'not found: try /, /metrics or /api/status\n', head);
    reply(response, 200, route.type, await route.body(snapshot), head);
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      log.error({ error: error.message, url: request.url }, 'management request failed');
      if (!response.headersSent) reply(response, 500, 'text/plain', 'internal error\n', false);
      else response.destroy();
    });
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  server.on('error', (error) => log.error({ error: error.message }, 'management listener error'));
  const sample = (): void => {
    try {
      const s = snapshot();
      history.record(throughputSeries(s), s.nowMs);
    } catch (error) {
      log.error({ error: (error as Error).message }, 'throughput sample failed');
    }
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_INTERVAL_MS);
  sampler.unref();
  const port = (server.address() as { port: number }).port;
  log.info({ metrics: `http://${options.address}:${port}/metrics`, page: `http://${options.address}:${port}/` }, 'management listener ready');
  return {
    port,
    history,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sampler);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
