/**
 * How storage adapters report what metrics and alarms need, without knowing about either.
 * The server entry connects it to the metrics registry.
 */
export interface StoreObserver {
  /** A store operation failed, or was slower than the fault threshold (500 ms for writes). */
  fault(store: 'segments' | 'metadata' | 'feed', operation: string, reason: 'error' | 'slow'): void;
  /** A store operation completed, with its duration in seconds. */
  latency(store: 'segments' | 'metadata', operation: string, seconds: number): void;
  /** Hot-cache lookups. */
  cacheHit(): void;
  cacheMiss(): void;
  /** Objects dropped to stay within a memory bound. */
  evicted(store: 'segments' | 'metadata' | 'hot-cache', bytes: number): void;
  /** A segment copy reached a peer region's bucket, this long after the ingest ack. */
  peerCopied(region: string, lagMs: number): void;
  /** A peer copy gave up after its retries, or was dropped because the queue was full. */
  peerCopyFailed(region: string, reason: 'error' | 'overflow'): void;
  /** Copies now waiting or in flight for a peer region (reported on every change). */
  peerCopyBacklog?(region: string, pending: number): void;
  /** Remote publish reached this instance's held requests this long after the ack. */
  remoteRelease(lagMs: number): void;
}

export const NO_OBSERVER: StoreObserver = {
  fault() {},
  latency() {},
  cacheHit() {},
  cacheMiss() {},
  evicted() {},
  peerCopied() {},
  peerCopyFailed() {},
  remoteRelease() {},
};
