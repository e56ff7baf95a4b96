import type { Worker } from 'node:cluster';
import cluster from 'node:cluster';
import type pino from 'pino';
import type { RuntimeConfig } from './config.js';
import type { Clock } from './ports/clock.js';

/** A worker that dies this soon after its start is not restarted (a crash loop, not a blip). */
const MIN_WORKER_LIFE_MS = 5_000;

/**
 * `LIVE_ORIGIN_WORKERS` > 1 in aws mode: this process forks that many workers, each the normal
 * server (server.ts) sharing the port, each an instance of the multi-instance design (its own
 * caches and publish feed on the shared S3 and DynamoDB, as two hosts would be). The primary
 * serves nothing: it splits the host's LIVE_ORIGIN_MEMORY_BYTES between the workers, restarts a worker that dies, forwards SIGTERM/SIGINT, and exits when every
 * worker has drained (0 if all exited 0).
 */
export function runPrimary(config: RuntimeConfig, log: pino.Logger, clock: Clock): void {
  // LIVE_ORIGIN_MEMORY_BYTES is the host's: each worker's hot cache gets its share.
  const env: Record<string, string> = { LIVE_ORIGIN_MEMORY_BYTES: String(Math.floor(config.memoryBytes / config.workers)) };
  // A generated token must be the same in every worker, so the primary makes and prints it.
  if (config.generatedToken) env.LIVE_ORIGIN_TOKENS = `${config.generatedToken}=*`;
  if (config.generatedToken) process.stdout.write(`Ingest token (generated, grants every event): ${config.generatedToken}\n`);

  const started = new Map<Worker, number>();
  let stopping = false;
  let failed = false;
  const fork = () => started.set(cluster.fork(env), clock.now());
  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers }, 'primary started workers');

  cluster.on('exit', (worker, code, signal) => {
    const startedAt = started.get(worker) ?? 0;
    started.delete(worker);
    if (code !== 0) failed = true;
    if (stopping) {
      if (started.size === 0) process.exit(failed ? 1 : 0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker exited');
    if (clock.now() - startedAt >= MIN_WORKER_LIFE_MS) fork();
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
