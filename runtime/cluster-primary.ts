import type { Worker } from 'node:cluster';
import cluster from 'node:cluster';
import type pino from 'pino';
import type { FeedMessage } from './adapters/cluster-feed.js';
import type { RuntimeConfig } from './config.js';
import type { Clock } from './ports/clock.js';
import type { StoreObserver } from './ports/store-observer.js';
import { NO_OBSERVER } from './ports/store-observer.js';

/** A worker that dies this soon after its start is not restarted (a crash loop, not a blip). */
const MIN_WORKER_LIFE_MS = 5_000;

/**
 * `LIVE_ORIGIN_WORKERS` > 1 in aws mode: this process forks that many workers, each the normal
 * server (server.ts) sharing the port, each an instance of the multi-instance design (its own
 * caches on the shared S3 and DynamoDB, as two hosts would be). The primary serves no request:
 * it polls DynamoDB once for every object any worker waits for (one publish-feed poller per
 * host, ClusterFeedHub), splits the host's LIVE_ORIGIN_MEMORY_BYTES between the workers,
 * restarts a worker that dies, forwards SIGTERM/SIGINT, and exits when every worker has drained
 * (0 if all exited 0).
 */
export async function runPrimary(config: RuntimeConfig, log: pino.Logger, clock: Clock): Promise<void> {
  const { createHostFeedHub } = await import('./adapters/aws-stores.js');
  const hub = createHostFeedHub({ region: config.region!, tablePrefix: config.tablePrefix }, feedFaultLog(log, clock));
  // LIVE_ORIGIN_MEMORY_BYTES is the host's: each worker's hot cache gets its share.
  const env: Record<string, string> = { LIVE_ORIGIN_MEMORY_BYTES: String(Math.floor(config.memoryBytes / config.workers)) };
  // A generated token must be the same in every worker, so the primary makes and prints it.
  if (config.generatedToken) env.LIVE_ORIGIN_TOKENS = `${config.generatedToken}=*`;
  if (config.generatedToken) process.stdout.write(`Ingest token (generated, grants every event): ${config.generatedToken}\n`);

  const started = new Map<Worker, number>();
  /** Which slot of the host each worker fills (its relay port is the configured one + slot). */
  const slots = new Map<Worker, number>();
  let stopping = false;
  let failed = false;
  const fork = (slot: number) => {
    const worker = cluster.fork({ ...env, LIVE_ORIGIN_WORKER_INDEX: String(slot) });
    started.set(worker, clock.now());
    slots.set(worker, slot);
    const member = { id: worker.id, send: (message: FeedMessage) => (worker.isConnected() ? worker.send(message) : undefined) };
    worker.on('message', hub.attach(member));
    worker.once('exit', () => hub.detach(member));
  };
  for (let i = 0; i < config.workers; i++) fork(i);
  log.info({ workers: config.workers }, 'primary started workers');

  cluster.on('exit', (worker, code, signal) => {
    const startedAt = started.get(worker) ?? 0;
    const slot = slots.get(worker) ?? 0;
    started.delete(worker);
    slots.delete(worker);
    if (code !== 0) failed = true;
    if (stopping) {
      if (started.size === 0) void hub.close().finally(() => process.exit(failed ? 1 : 0));
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker exited');
    if (clock.now() - startedAt >= MIN_WORKER_LIFE_MS) fork(slot);
    else if (started.size === 0) process.exit(1);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'primary forwarding to workers');
    for (const worker of started.keys()) worker.process.kill(signal);
    if (started.size === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Feed faults of the host's poller (the primary has no /metrics): a warning, at most one a minute. */
function feedFaultLog(log: pino.Logger, clock: Clock): StoreObserver {
  let lastAt = 0;
  return {
    ...NO_OBSERVER,
    fault(store, operation, reason) {
      if (clock.now() - lastAt < 60_000) return;
      lastAt = clock.now();
      log.warn({ store, operation, reason }, 'the host publish-feed poller failed a read (it keeps retrying)');
    },
  };
}
