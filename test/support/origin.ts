import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { PurgeClient } from '../../runtime/adapters/purge-client.js';
import { systemClock } from '../../runtime/adapters/system-clock.js';
import { parseTokenGrants } from '../../runtime/domain/tokens.js';
import type { AppDeps } from '../../runtime/http/app.js';
import { buildApp } from '../../runtime/http/app.js';
import { OriginMetrics } from '../../runtime/metrics/origin-metrics.js';
import type { Stores } from '../../runtime/ports/stores.js';

export const TOKEN = 'test-token-0123456789';
export const NEWS_TOKEN = 'news-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export interface TestOrigin {
  readonly url: string;
  readonly app: ReturnType<typeof buildApp>;
  readonly metrics: OriginMetrics;
  readonly stores: Stores;
  readonly purger: PurgeClient;
  close(): Promise<void>;
}

/** The origin app on the memory store, listening on a real loopback socket. */
export async function startOrigin(
  overrides: Partial<AppDeps> & { purgeUrls?: string[]; memoryBytes?: number; stores?: Stores; port?: number } = {},
): Promise<TestOrigin> {
  const metrics = new OriginMetrics();
  const stores = overrides.stores ?? createMemoryStores({ memoryBytes: overrides.memoryBytes ?? 64 * 1024 * 1024, observer: metrics.storeObserver() });
  const purger = new PurgeClient({
    baseUrls: overrides.purgeUrls ?? [],
    onOutcome: (outcome) => metrics.purges.inc({ outcome }),
    onBacklog: (backlog) => metrics.purgeBacklog.set(backlog),
    retryDelayMs: 20,
  });
  const { port = 0, ...deps } = overrides;
  const app = buildApp({
    clock: systemClock,
    stores,
    purger,
    metrics,
    tokens: parseTokenGrants(`${TOKEN}=*,${NEWS_TOKEN}=news-*`),
    maxObjectBytes: 8 * 1024 * 1024,
    maxHeld: 1000,
    eventRps: 0,
    logger: false,
    ...deps,
  });
  const url = await app.listen({ port, host: '127.0.0.1' });
  return {
    url,
    app,
    metrics,
    stores,
    purger,
    async close() {
      await app.close();
      await stores.close();
    },
  };
}

export interface ReceivedPurge {
  readonly method: string;
  readonly url: string;
}

/** A real HTTP server standing in for a CDN node: records every request it gets. */
export async function startPurgeReceiver(
  status = 200,
): Promise<{ url: string; received: ReceivedPurge[]; setStatus(s: number): void; close(): Promise<void> }> {
  const received: ReceivedPurge[] = [];
  let current = status;
  const server = http.createServer((req, res) => {
    received.push({ method: req.method!, url: req.url! });
    res.statusCode = current;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    setStatus(s) {
      current = s;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function put(
  origin: TestOrigin,
  event: string,
  pipeline: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${origin.url}/ingest/${event}/${pipeline}/${path}`, {
    method: 'PUT',
    headers: { ...AUTH, ...headers },
    body,
  });
}

export async function configure(origin: TestOrigin, event: string, config: Record<string, unknown>): Promise<Response> {
  return fetch(`${origin.url}/admin/events/${event}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
}

/** Waits until `check` passes or the time runs out (for effects that happen after a response). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * How many holds the origin has ended so far (its hold-wait histogram's count): a request
 * answered without this moving was answered without being held, which a test can check on a busy
 * host where "answered within N ms" would be a guess.
 */
export async function holdsEnded(origin: TestOrigin): Promise<number> {
  const { values } = await origin.metrics.holdWaitSeconds.get();
  return values.filter((v) => v.metricName?.endsWith('_count')).reduce((sum, v) => sum + v.value, 0);
}
