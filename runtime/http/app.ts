import http from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import Fastify, { LogController } from 'fastify';
import type { CorsPolicy } from '../domain/cors.js';
import type { TokenGrants } from '../domain/tokens.js';
import type { OriginMetrics } from '../metrics/origin-metrics.js';
import type { Cancel, Clock } from '../ports/clock.js';
import type { CredentialSource } from '../ports/credentials.js';
import type { Purger } from '../ports/purger.js';
import type { Stores } from '../ports/stores.js';
import type { StreamRelay } from '../ports/stream-relay.js';
import { ActivityLog } from '../service/activity-log.js';
import type { ServiceContext } from '../service/context.js';
import { ControlService } from '../service/control-service.js';
import { DeliveryService } from '../service/delivery-service.js';
import { HoldRegistry } from '../service/hold-registry.js';
import { IngestService } from '../service/ingest-service.js';
import { StreamRegistry } from '../service/ingest-stream.js';
import { RemoteStreams } from '../service/remote-streams.js';
import { StatusService } from '../service/status-service.js';
import { continueWhenBodyRead } from './expect-continue.js';
import { authPlugin } from './plugins/auth.js';
import { corsPlugin } from './plugins/cors.js';
import { errorsPlugin } from './plugins/errors.js';
import { metricsPlugin } from './plugins/metrics.js';
import { Readiness } from './readiness.js';
import { adminRoutes } from './routes/admin.js';
import { deliveryDispatcher, deliveryRoutes } from './routes/delivery.js';
import { ingestRoutes } from './routes/ingest.js';
import { opsRoutes } from './routes/ops.js';
import { statusRoutes } from './routes/status.js';
import { READER_STALL_MS } from './stream-answer.js';

/**
 * Server timeouts: ingest of a large object on a slow link, and CDN keep-alive reuse. The
 * connection timeout is the socket's inactivity bound: it also ends a PUT whose body stops
 * arriving (a chunked PUT that never ends), which cuts every answer streaming it.
 */
export const HTTP_TIMEOUTS = {
  connectionTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  requestTimeoutMs: 120_000,
} as const;
export type HttpTimeouts = { readonly [K in keyof typeof HTTP_TIMEOUTS]: number };
/** How often pipeline health gauges (and the UnhealthyPipelines alarm signal) are recomputed. */
const HEALTH_REFRESH_MS = 5_000;
/** JSON bodies on the control plane; object bodies have their own limit. */
const CONTROL_BODY_LIMIT = 64 * 1024;

export interface AppDeps {
  readonly stores: Stores;
  readonly purger: Purger;
  readonly metrics: OriginMetrics;
  readonly tokens: TokenGrants;
  readonly cdnSecret?: string;
  /** Re-read credentials (tokens, current and next CDN secret); replaces `tokens` and `cdnSecret`. */
  readonly credentials?: CredentialSource;
  readonly maxObjectBytes: number;
  readonly maxHeld: number;
  readonly eventRps: number;
  /** A pino logger, or false for none (tests). */
  readonly logger: FastifyBaseLogger | false;
  /** Time and timers for every service (the server entry gives the system clock). */
  readonly clock: Clock;
  /** Reads PUTs arriving on other instances (aws mode); none for an instance alone. */
  readonly relay?: StreamRelay;
  /** @default HTTP_TIMEOUTS */
  readonly httpTimeouts?: Partial<HttpTimeouts>;
  /** A streaming reader that takes no bytes this long is dropped. @default READER_STALL_MS */
  readonly readerStallMs?: number;
  /** Which pages may read delivery responses (LIVE_ORIGIN_CORS_ORIGINS). @default any origin */
  readonly cors?: CorsPolicy;
}

export interface OriginServices {
  readonly stores: Stores;
  readonly metrics: OriginMetrics;
  readonly ingest: IngestService;
  readonly delivery: DeliveryService;
  readonly control: ControlService;
  readonly status: StatusService;
  readonly holds: HoldRegistry;
  /** PUTs whose bytes are arriving here, served while ingesting. */
  readonly streams: StreamRegistry;
  /** PUTs arriving on other instances, relayed here. */
  readonly remoteStreams: RemoteStreams;
  readonly readiness: Readiness;
  readonly limits: { readonly maxObjectBytes: number; readonly readerStallMs: number };
  readonly clock: Clock;
}

declare module 'fastify' {
  interface FastifyInstance {
    origin: OriginServices;
  }
}

/** Builds the origin's HTTP app on the given stores. Never listens: server.ts does. */
export function buildApp(deps: AppDeps): FastifyInstance {
  let delivery: ReturnType<typeof deliveryDispatcher> | undefined;
  const app = Fastify({
    // Delivery GETs go from the Node server straight to their handler (routes/delivery.ts);
    // everything else, and delivery while closing, goes through Fastify.
    serverFactory: (handler) => {
      const route = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        if (!delivery?.handle(req, res)) handler(req, res);
      };
      const server = http.createServer(route);
      server.on('checkContinue', (req, res) => {
        continueWhenBodyRead(req, res);
        route(req, res);
      });
      const timeouts = { ...HTTP_TIMEOUTS, ...deps.httpTimeouts };
      server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
      server.requestTimeout = timeouts.requestTimeoutMs;
      server.setTimeout(timeouts.connectionTimeoutMs);
      return server;
    },
    loggerInstance: deps.logger === false ? undefined : deps.logger,
    logger: deps.logger === false ? false : undefined,
    // The metrics plugin writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: CONTROL_BODY_LIMIT,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  const { clock } = deps;
  const now = (): number => clock.now();
  const activity = new ActivityLog(now);
  const holds = new HoldRegistry(deps.stores.feed, clock, {
    maxHeld: deps.maxHeld,
    onHeldChange: (held) => deps.metrics.held.set(held),
    onWaitEnd: (outcome, seconds) => deps.metrics.holdWaitSeconds.observe({ outcome }, seconds),
  });
  // Held requests wake when a PUT of their object starts, as when one is published.
  const streams = new StreamRegistry((event, path) => holds.release({ event, path }), clock);
  const remoteStreams = new RemoteStreams(deps.relay, clock);
  const ctx: ServiceContext = {
    stores: deps.stores,
    purger: activity.recording(deps.purger),
    metrics: deps.metrics,
    log: app.log,
    clock,
    activity,
    streams,
    remoteStreams,
  };
  const readiness = new Readiness(async () => {
    await Promise.all([deps.stores.segments.ping(), deps.stores.metadata.ping()]);
  }, clock);
  const control = new ControlService(ctx);
  const services: OriginServices = {
    stores: deps.stores,
    metrics: deps.metrics,
    ingest: new IngestService(ctx),
    delivery: new DeliveryService(ctx, holds, deps.eventRps),
    control,
    status: new StatusService({ control, activity, held: () => holds.held, readiness: () => readiness.reason, now }),
    holds,
    streams,
    remoteStreams,
    readiness,
    limits: { maxObjectBytes: deps.maxObjectBytes, readerStallMs: deps.readerStallMs ?? READER_STALL_MS },
    clock,
  };
  app.decorate('origin', services);

  // Pipeline health feeds alarms even when nobody scrapes /metrics.
  let cancelHealth: Cancel | undefined;
  app.addHook('onReady', async () => {
    await readiness.start();
    cancelHealth = clock.every(HEALTH_REFRESH_MS, () => void services.control.refreshHealth().catch(() => undefined));
  });
  app.addHook('preClose', async () => {
    delivery?.close();
    readiness.drain();
    holds.drain();
  });
  app.addHook('onClose', async () => {
    readiness.stop();
    cancelHealth?.();
  });

  void app.register(errorsPlugin);
  void app.register(metricsPlugin, { metrics: deps.metrics });
  void app.register(authPlugin, { tokens: deps.tokens, cdnSecret: deps.cdnSecret, credentials: deps.credentials });
  void app.register(opsRoutes);
  void app.register(corsPlugin, { policy: deps.cors ?? { kind: 'any' } });
  void app.register(deliveryRoutes);
  delivery = deliveryDispatcher(app);
  void app.register(adminRoutes);
  void app.register(ingestRoutes);
  void app.register(statusRoutes);
  return app;
}
