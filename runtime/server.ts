import cluster from 'node:cluster';
import pino from 'pino';
import { sleep } from './adapters/clock-waits.js';
import type { FeedChannel } from './adapters/cluster-feed.js';
import { isFeedMessage } from './adapters/cluster-feed.js';
import { createMemoryStores } from './adapters/memory-stores.js';
import { PurgeClient } from './adapters/purge-client.js';
import { holdProcessOpen, systemClock } from './adapters/system-clock.js';
import { parseCommandLine } from './cli-args.js';
import { runPrimary } from './cluster-primary.js';
import type { RuntimeConfig } from './config.js';
import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './http/app.js';
import { startRelayServer } from './http/relay-server.js';
import { prettyDestination } from './log-format.js';
import { OriginMetrics } from './metrics/origin-metrics.js';
import { type CredentialSource, fixedCredentials } from './ports/credentials.js';
import type { Purger } from './ports/purger.js';
import type { StoreObserver } from './ports/store-observer.js';
import type { Stores } from './ports/stores.js';

/** How long a drain may take before the process exits anyway (held requests are answered first). */
const SHUTDOWN_GRACE_MS = 30_000;
/** The longest the last purges may take to leave at shutdown. */
const PURGE_FLUSH_MS = 2_000;
/** The one clock of the process: every adapter and service below gets this one. */
const clock = systemClock;

const USAGE = `usage: npm start            (the AMI runs: node server.mjs)

Runs the Live Origin. It takes no flags: every setting comes from the environment, checked at
start (a bad one is a one-line error and exit 2). The main ones:
  PORT=8080  HOST=127.0.0.1  LIVE_ORIGIN_STORE=memory|aws
  LIVE_ORIGIN_TOKENS=token=glob[,token=glob...]   (unset: one token is generated and printed)
  LOG_LEVEL=info  LOG_FORMAT=json|pretty          (unset: pretty on a terminal, JSON otherwise)
The full list is in README.md, "Configuration".`;

/** Why the server could not listen, in one line: the usual causes have a usual fix. */
function listenFailure(error: NodeJS.ErrnoException, config: RuntimeConfig): string {
  const where = `${config.host}:${config.port}`;
  if (error.code === 'EADDRINUSE') return `port ${config.port} on ${config.host} is in use; stop what holds it or set PORT to another`;
  if (error.code === 'EACCES') return `not allowed to listen on ${where}; ports below 1024 need privileges, set PORT`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return `HOST ${config.host} is not an address of this machine`;
  return `cannot listen on ${where}: ${error.message}`;
}

async function openStores(config: RuntimeConfig, observer: StoreObserver): Promise<Stores> {
  if (config.store === 'memory') return createMemoryStores({ memoryBytes: config.memoryBytes, observer });
  const { createAwsStores } = await import('./adapters/aws-stores.js');
  return createAwsStores(
    {
      bucket: config.bucket!,
      tablePrefix: config.tablePrefix,
      region: config.region!,
      peerBuckets: { ...config.peerBuckets },
      peerEndpoints: { ...config.peerEndpoints },
      s3PathStyle: config.s3PathStyle,
      memoryBytes: config.memoryBytes,
      // A worker of a host: its primary polls for the whole host.
      feedChannel: cluster.isWorker ? processFeedChannel() : undefined,
      clock,
    },
    observer,
  );
}

/** A cluster worker's IPC channel to its primary, for the host's one publish-feed poller. */
function processFeedChannel(): FeedChannel {
  return {
    send: (message) => {
      if (process.connected) process.send!(message);
    },
    onMessage: (handler) =>
      process.on('message', (message) => {
        if (isFeedMessage(message)) handler(message);
      }),
  };
}

/** One purge to every CDN tier (Varnish PURGE fan-out, CloudFront invalidations). */
function fanOut(purgers: readonly Purger[]): Purger {
  return {
    purge: (event, paths) => {
      for (const purger of purgers) purger.purge(event, paths);
    },
    flush: async () => {
      await Promise.all(purgers.map((purger) => purger.flush()));
    },
  };
}

/**
 * Tokens and CDN secrets: from the credentials file, re-read while the process runs (a rotation
 * or a revocation needs no restart), or fixed from the environment.
 */
async function openCredentials(config: RuntimeConfig, log: pino.Logger): Promise<{ source: CredentialSource; stop(): void }> {
  if (config.credentialsFile === undefined) return { source: fixedCredentials(config.tokens, [config.cdnSecret, config.cdnSecretNext]), stop: () => {} };
  const { CredentialsFile } = await import('./adapters/credentials-file.js');
  const file = new CredentialsFile(config.credentialsFile, {
    reloadMs: config.credentialsReloadMs,
    clock,
    onChange: () => log.info({ file: config.credentialsFile }, 'credentials reloaded'),
    onError: (error) => log.warn({ err: error, file: config.credentialsFile }, 'credentials not reloaded; the previous ones stay'),
  });
  file.start();
  return { source: file, stop: () => file.stop() };
}

/**
 * The relay's address: worker i of a host takes the configured port + i (any free port when 0).
 * It listens where the runtime listens (HOST) and is named to other instances by its private
 * address, so a listen never depends on which interface holds that address.
 */
function relayListen(config: RuntimeConfig): { host: string; listenHost: string; port: number } {
  return { host: config.relayHost, listenHost: config.host, port: config.relayPort === 0 ? 0 : config.relayPort + config.workerIndex };
}

/** Reads config, wires adapters, listens, and drains on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  parseCommandLine({ name: 'live-origin', usage: USAGE, options: {} });
  let config: RuntimeConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`live-origin: ${error.message}\n`);
    process.exit(2);
  }
  const pretty = (config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  const log = pretty
    ? pino({ level: config.logLevel }, prettyDestination(process.stdout, config.logColors && process.stdout.isTTY, clock))
    : pino({ level: config.logLevel });
  if (config.workers > 1 && cluster.isPrimary) {
    if (config.store === 'aws') return runPrimary(config, log, clock);
    // The memory store lives in one process: a second would hold other objects.
    log.warn({ workers: config.workers }, 'LIVE_ORIGIN_WORKERS applies to aws mode; the memory store runs one process');
  }
  const metrics = new OriginMetrics();
  let credentials: Awaited<ReturnType<typeof openCredentials>>;
  try {
    credentials = await openCredentials(config, log);
  } catch (error) {
    process.stderr.write(`live-origin: LIVE_ORIGIN_CREDENTIALS_FILE: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const stores = await openStores(config, metrics.storeObserver());
  const purgeClient = new PurgeClient({
    baseUrls: config.purgeUrls,
    onOutcome: (outcome) => metrics.purges.inc({ outcome }),
    onFailure: (url, reason) => log.warn({ url, reason }, 'purge failed'),
    onBacklog: (backlog) => metrics.purgeBacklog.set(backlog),
    clock,
  });
  // With a CloudFront distribution in front, every purge is also an invalidation there.
  const cloudFront = config.cloudFrontDistributionId
    ? (await import('./adapters/cloudfront-purger.js')).createCloudFrontPurger({
        distributionId: config.cloudFrontDistributionId,
        onOutcome: (outcome, paths) => metrics.purges.inc({ outcome }, paths),
        onFailure: (reason, paths) => log.warn({ reason, paths: paths.length }, 'CloudFront invalidation failed'),
        clock,
      })
    : undefined;
  const purger: Purger = cloudFront ? fanOut([purgeClient, cloudFront]) : purgeClient;
  // Alarm signals for the regional alarms; CloudWatch exists only in aws mode.
  const publisher =
    config.store === 'aws'
      ? (await import('./adapters/cloudwatch-publisher.js')).createCloudWatchPublisher({
          signals: metrics,
          region: config.region!,
          onFailure: (error) => log.warn({ err: error }, 'CloudWatch publish failed'),
          clock,
        })
      : undefined;
  publisher?.start();
  // Other instances read this one's PUTs while they arrive (aws mode: instances share the metadata).
  const relay = config.store === 'aws' ? (await import('./adapters/http-stream-relay.js')).createHttpStreamRelay(clock) : undefined;
  const app = buildApp({
    clock,
    relay,
    stores,
    purger,
    metrics,
    tokens: config.tokens,
    credentials: credentials.source,
    maxObjectBytes: config.maxObjectBytes,
    maxHeld: config.maxHeld,
    eventRps: config.eventRps,
    cors: config.cors,
    logger: log,
  });

  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    process.stderr.write(`live-origin: ${listenFailure(error as NodeJS.ErrnoException, config)}\n`);
    process.exit(1);
  }
  const relayServer = relay
    ? await startRelayServer(app.origin, relayListen(config)).catch((error: NodeJS.ErrnoException) => {
        process.stderr.write(`live-origin: the relay cannot listen on ${config.host}: ${error.message}\n`);
        process.exit(1);
      })
    : undefined;
  if (relayServer) app.origin.streams.enableRelay(relayServer.url);

  // The drain is in place before the origin says it listens: whoever starts it may stop it the
  // moment it reads that line, and a SIGTERM before the handler would kill it unannounced.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // The clock's timers never keep the process alive: this does, until the exit below.
    holdProcessOpen();
    log.info({ signal }, 'draining');
    clock.after(SHUTDOWN_GRACE_MS, () => {
      log.error('drain took too long, exiting');
      process.exit(1);
    });
    // Readiness turns 503 and held requests are answered at once; the node keeps serving for
    // the drain delay so load balancers see it leave before connections close.
    app.origin.readiness.drain();
    app.origin.holds.drain();
    await sleep(clock, config.drainDelayMs);
    await app.close();
    await relayServer?.close();
    await app.origin.remoteStreams.close();
    credentials.stop();
    await Promise.race([purger.flush(), sleep(clock, PURGE_FLUSH_MS)]);
    await publisher?.close();
    await stores.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  log.info({ address, store: config.store, relay: relayServer?.url }, 'live origin listening');
  const tokenLine = config.generatedToken ? `Ingest token (generated, grants every event): ${config.generatedToken}\n` : '';
  process.stdout.write(`${tokenLine}Live Origin listening on ${address} (store: ${config.store})\n`);
}

// Whatever else stops the start (a store that cannot be opened) is one line too, not a stack trace.
await main().catch((error: Error) => {
  process.stderr.write(`live-origin: could not start: ${error.message}\n`);
  process.exit(1);
});
