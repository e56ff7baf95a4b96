import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Cancel, Clock } from '../ports/clock.js';
import type { SegmentKey } from '../ports/segment-store.js';
import { segmentKeyString } from '../ports/segment-store.js';
import type { StoreObserver } from '../ports/store-observer.js';
import { CALL_BUDGET_MS, callBudgetMs } from './aws-retry.js';
import { abortAfter } from './clock-waits.js';
import type { BucketLocation, PutListener } from './s3-segment-store.js';
import { putObjectInput } from './s3-segment-store.js';
import { systemClock } from './system-clock.js';

export interface PeerReplicatorOptions {
  /** The other regions' buckets (never this region's). */
  readonly peers: readonly BucketLocation[];
  readonly observer: StoreObserver;
  /** Copies waiting per peer, beyond which new ones are dropped (counted as overflow). @default 2000 */
  readonly maxQueued?: number;
  /** Bytes waiting per peer, same rule. @default 256 MiB */
  readonly maxQueuedBytes?: number;
  /** Copies in flight per peer. @default 8 */
  readonly concurrency?: number;
  /** Attempts per copy, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** First retry delay; doubles per attempt, up to maxDelayMs. @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** Dates the acks, times the retries and each copy's budget. @default systemClock */
  readonly clock?: Clock;
}

interface Copy {
  readonly id: string;
  readonly key: SegmentKey;
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  /** When the local write was acknowledged (epoch ms). */
  readonly ackAt: number;
  attempts: number;
}

/**
 * Copies each acknowledged segment to every peer region's bucket, so a failover finds the live
 * edge already there. One queue per peer, bounded in count and bytes; a newer version of a key
 * replaces one still waiting; failures retry with exponential backoff and jitter.
 */
export class PeerReplicator implements PutListener {
  private readonly lanes: PeerLane[];
  private readonly clock: Clock;

  constructor(options: PeerReplicatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.lanes = options.peers.map((peer) => new PeerLane(peer, options, this.clock));
  }

  afterPut(key: SegmentKey, body: Buffer, meta: { readonly contentType: string; readonly etag: string }): void {
    const ackAt = this.clock.now();
    for (const lane of this.lanes) {
      lane.enqueue({ id: segmentKeyString(key), key, body, contentType: meta.contentType, etag: meta.etag, ackAt, attempts: 0 });
    }
  }

  /** Copies waiting or in flight, over all peers. */
  get pending(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.pending, 0);
  }

  /** Waits up to `drainMs` for copies in progress, then abandons the rest. */
  async close(drainMs = CALL_BUDGET_MS): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close(drainMs)));
  }
}

class PeerLane {
  private readonly waiting = new Map<string, Copy>();
  /** Retries waiting for their backoff to pass, each by how to cancel it. */
  private readonly retrying = new Set<Cancel>();
  /** Keys being copied: a newer version waits, so versions land in order. */
  private readonly sending = new Set<string>();
  private waitingBytes = 0;
  private active = 0;
  private closed = false;
  private idle: (() => void) | undefined;
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly peer: BucketLocation,
    private readonly options: PeerReplicatorOptions,
    private readonly clock: Clock,
  ) {
    this.maxQueued = options.maxQueued ?? 2_000;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 256 * 1024 * 1024;
    this.concurrency = options.concurrency ?? 8;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
  }

  get pending(): number {
    return this.waiting.size + this.active + this.retrying.size;
  }

  /** Reports the backlog after a change: a stalled peer shows as a backlog that only grows. */
  private reportBacklog(): void {
    this.options.observer.peerCopyBacklog?.(this.peer.region, this.pending);
  }

  enqueue(copy: Copy): void {
    if (this.closed) return;
    const replaced = this.waiting.get(copy.id);
    if (replaced) {
      this.waiting.delete(copy.id);
      this.waitingBytes -= replaced.body.length;
    } else if (this.waiting.size >= this.maxQueued || this.waitingBytes + copy.body.length > this.maxQueuedBytes) {
      this.options.observer.peerCopyFailed(this.peer.region, 'overflow');
      return;
    }
    this.waiting.set(copy.id, copy);
    this.waitingBytes += copy.body.length;
    this.pump();
    this.reportBacklog();
  }

  async close(drainMs: number): Promise<void> {
    this.closed = true;
    for (const cancel of this.retrying) cancel();
    this.retrying.clear();
    if (this.active === 0) return;
    await new Promise<void>((resolve) => {
      const cancel = this.clock.after(drainMs, resolve);
      this.idle = () => {
        cancel();
        resolve();
      };
    });
  }

  private pump(): void {
    for (const [id, copy] of this.waiting) {
      if (this.closed || this.active >= this.concurrency) return;
      if (this.sending.has(id)) continue;
      this.waiting.delete(id);
      this.waitingBytes -= copy.body.length;
      this.active++;
      this.sending.add(id);
      void this.send(copy).finally(() => {
        this.active--;
        this.sending.delete(id);
        if (this.active === 0) this.idle?.();
        this.pump();
        this.reportBacklog();
      });
    }
  }

  private async send(copy: Copy): Promise<void> {
    copy.attempts++;
    const limit = abortAfter(this.clock, callBudgetMs(copy.body.length));
    try {
      await this.peer.client.send(new PutObjectCommand(putObjectInput(this.peer.bucket, copy.key, copy.body, copy)), { abortSignal: limit.signal });
      this.options.observer.peerCopied(this.peer.region, this.clock.now() - copy.ackAt);
    } catch {
      this.retry(copy);
    } finally {
      limit.cancel();
    }
  }

  private retry(copy: Copy): void {
    if (this.closed) return;
    // A newer version of the key is already queued: this one is obsolete.
    if (this.waiting.has(copy.id)) return;
    if (copy.attempts >= this.maxAttempts) {
      this.options.observer.peerCopyFailed(this.peer.region, 'error');
      return;
    }
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (copy.attempts - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const cancel = this.clock.after(delay, () => {
      this.retrying.delete(cancel);
      if (!this.waiting.has(copy.id)) this.enqueue(copy);
    });
    this.retrying.add(cancel);
  }
}
