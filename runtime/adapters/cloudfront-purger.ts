import { randomUUID } from 'node:crypto';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { Cancel, Clock } from '../ports/clock.js';
import type { Purger } from '../ports/purger.js';
import { abortAfter, sleep } from './clock-waits.js';
import { systemClock } from './system-clock.js';

/**
 * Purges reach CloudFront as invalidations (the `PURGE` method does not exist there). Each path
 * past the first 1,000 of a month is billed, a wildcard counts as one path, and a distribution
 * holds at most 3,000 paths (15 wildcards) in progress; so paths are collected for a short
 * window, deduplicated, folded into an event-wide wildcard when one event has many, and sent
 * one invalidation at a time.
 */

/** How long purges are collected before one invalidation carries them all. */
export const BATCH_WINDOW_MS = 1_000;
/** Paths per invalidation: a third of what CloudFront keeps in progress, so three can overlap. */
export const MAX_PATHS_PER_INVALIDATION = 1_000;
/** Paths waiting for an invalidation beyond which new ones are dropped (and counted). */
export const MAX_PENDING_PATHS = 10_000;
/** More paths than this for one event in one batch cost more than `/live/{event}/*` (one path). */
export const WILDCARD_ABOVE = 100;
/** Attempts per invalidation, the first included. */
export const ATTEMPTS = 5;
/** First retry delay; doubles per attempt up to `MAX_RETRY_DELAY_MS`. */
export const RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 30_000;
/** One CreateInvalidation call, connection included, gives up after this long. */
export const CALL_TIMEOUT_MS = 10_000;
/** CloudFront's REST API is global; its endpoint lives in us-east-1. */
const CLOUDFRONT_REGION = 'us-east-1';

/**
 * Per path: `ok` sent on the first attempt, `retried` sent after a retry, `failed` given up,
 * `dropped` refused because the backlog was full, `collapsed` folded into an event wildcard.
 */
export type InvalidationOutcome = 'ok' | 'retried' | 'failed' | 'dropped' | 'collapsed';

export interface CloudFrontPurgerOptions {
  readonly client: CloudFrontClient;
  readonly distributionId: string;
  /** Counts `paths` paths with `outcome` (the `live_origin_purges_total` counter). */
  readonly onOutcome: (outcome: InvalidationOutcome, paths: number) => void;
  /** Told of every invalidation given up, with the last error. */
  readonly onFailure?: (reason: string, paths: readonly string[]) => void;
  /** @default BATCH_WINDOW_MS */
  readonly batchWindowMs?: number;
  /** @default MAX_PATHS_PER_INVALIDATION */
  readonly maxPathsPerInvalidation?: number;
  /** @default MAX_PENDING_PATHS */
  readonly maxPendingPaths?: number;
  /** @default WILDCARD_ABOVE */
  readonly wildcardAbove?: number;
  /** @default ATTEMPTS */
  readonly attempts?: number;
  /** @default RETRY_DELAY_MS */
  readonly retryDelayMs?: number;
  /** @default MAX_RETRY_DELAY_MS */
  readonly maxRetryDelayMs?: number;
  /** @default CALL_TIMEOUT_MS */
  readonly callTimeoutMs?: number;
  /** Times the batch window, the calls and the pauses between attempts. @default systemClock */
  readonly clock?: Clock;
}

/** An event's pending purges: its paths, or everything under it. */
type Pending = Set<string> | 'all';

/** `/live/{event}/{path}` as CloudFront matches it (identifiers are URL-safe by the contract). */
export function invalidationPath(event: string, path: string): string {
  return path === '*' ? `/live/${event}/*` : `/live/${event}/${path}`;
}

export class CloudFrontPurger implements Purger {
  private readonly pending = new Map<string, Pending>();
  private pendingPaths = 0;
  /** Ends the open batch window early. */
  private cancelWindow: Cancel | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly clock: Clock;

  constructor(private readonly options: CloudFrontPurgerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  purge(event: string, paths: readonly string[]): void {
    for (const path of paths) this.add(event, path);
    this.arm();
  }

  /** Sends everything pending now, and waits until nothing is pending or in flight. */
  async flush(): Promise<void> {
    // The map, not the counter, says what is left: every batch empties what it takes from it.
    while (this.sending || this.pending.size > 0) {
      this.cancelWindow?.();
      this.cancelWindow = undefined;
      await (this.sending ?? this.sendNext());
    }
  }

  /** Sends what is pending and releases the client (the purger owns it). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.options.client.destroy();
  }

  private add(event: string, path: string): void {
    const current = this.pending.get(event);
    if (current === 'all') return;
    if (current === undefined && this.pendingPaths >= (this.options.maxPendingPaths ?? MAX_PENDING_PATHS)) {
      this.options.onOutcome('dropped', 1);
      return;
    }
    if (path === '*') {
      this.pendingPaths += 1 - (current?.size ?? 0);
      this.pending.set(event, 'all');
      return;
    }
    if (current?.has(path)) return;
    const wildcardAbove = this.options.wildcardAbove ?? WILDCARD_ABOVE;
    if (current && current.size >= wildcardAbove) {
      // Cheaper as one wildcard than as this many billed paths.
      this.options.onOutcome('collapsed', current.size + 1);
      this.pendingPaths += 1 - current.size;
      this.pending.set(event, 'all');
      return;
    }
    if (current && this.pendingPaths >= (this.options.maxPendingPaths ?? MAX_PENDING_PATHS)) {
      this.options.onOutcome('dropped', 1);
      return;
    }
    if (current) current.add(path);
    else this.pending.set(event, new Set([path]));
    this.pendingPaths++;
  }

  /** Starts the batch window, unless one is open or an invalidation is in flight (it re-arms). */
  private arm(): void {
    if (this.closed || this.cancelWindow || this.sending || this.pending.size === 0) return;
    this.cancelWindow = this.clock.after(this.options.batchWindowMs ?? BATCH_WINDOW_MS, () => {
      this.cancelWindow = undefined;
      void this.sendNext();
    });
  }

  private sendNext(): Promise<void> {
    this.sending ??= this.send(this.takeBatch()).finally(() => {
      this.sending = undefined;
      this.arm();
    });
    return this.sending;
  }

  /** Up to the per-invalidation limit, wildcards first (they cover the most). */
  private takeBatch(): string[] {
    const limit = this.options.maxPathsPerInvalidation ?? MAX_PATHS_PER_INVALIDATION;
    const batch: string[] = [];
    for (const [event, pending] of this.pending) {
      if (batch.length >= limit) break;
      if (pending !== 'all') continue;
      batch.push(invalidationPath(event, '*'));
      this.pending.delete(event);
    }
    for (const [event, pending] of this.pending) {
      if (pending === 'all') continue;
      for (const path of pending) {
        if (batch.length >= limit) break;
        batch.push(invalidationPath(event, path));
        pending.delete(path);
      }
      if (pending.size === 0) this.pending.delete(event);
      if (batch.length >= limit) break;
    }
    this.pendingPaths -= batch.length;
    return batch;
  }

  private async send(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    const attempts = this.options.attempts ?? ATTEMPTS;
    // One reference for every attempt: a retry of a request that did arrive is answered with the
    // invalidation it created instead of a second, billed one.
    const callerReference = `live-origin-${randomUUID()}`;
    let delay = this.options.retryDelayMs ?? RETRY_DELAY_MS;
    let reason = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const limit = abortAfter(this.clock, this.options.callTimeoutMs ?? CALL_TIMEOUT_MS);
      try {
        await this.options.client.send(
          new CreateInvalidationCommand({
            DistributionId: this.options.distributionId,
            InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: paths } },
          }),
          { abortSignal: limit.signal },
        );
        this.options.onOutcome(attempt === 1 ? 'ok' : 'retried', paths.length);
        return;
      } catch (error) {
        reason = describe(error);
      } finally {
        limit.cancel();
      }
      if (attempt < attempts) {
        // TooManyInvalidationsInProgress and throttling clear as earlier invalidations finish.
        await sleep(this.clock, delay);
        delay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? MAX_RETRY_DELAY_MS);
      }
    }
    this.options.onOutcome('failed', paths.length);
    this.options.onFailure?.(reason, paths);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined ? `${error.name}: ${error.message}` : `${error.name} (${status}): ${error.message}`;
}

/** A purger on a client from the SDK's own configuration (credentials; `AWS_ENDPOINT_URL_CLOUDFRONT`). */
export function createCloudFrontPurger(options: Omit<CloudFrontPurgerOptions, 'client'>): CloudFrontPurger {
  // One retry policy, the purger's own: the SDK does not retry TooManyInvalidationsInProgress.
  const client = new CloudFrontClient({ region: CLOUDFRONT_REGION, maxAttempts: 1 });
  return new CloudFrontPurger({ ...options, client });
}
