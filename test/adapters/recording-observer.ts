import type { StoreObserver } from '../../runtime/ports/store-observer.js';

/** A StoreObserver that keeps every report, for assertions. */
export class RecordingObserver implements StoreObserver {
  readonly faults: { store: string; operation: string; reason: 'error' | 'slow' }[] = [];
  readonly latencies: { store: string; operation: string; seconds: number }[] = [];
  readonly evictions: { store: string; bytes: number }[] = [];
  readonly copies: { region: string; lagMs: number }[] = [];
  readonly copyFailures: { region: string; reason: 'error' | 'overflow' }[] = [];
  readonly releases: number[] = [];
  /** Every backlog report, in order. */
  readonly backlogs: { region: string; pending: number }[] = [];
  hits = 0;
  misses = 0;

  fault(store: 'segments' | 'metadata' | 'feed', operation: string, reason: 'error' | 'slow'): void {
    this.faults.push({ store, operation, reason });
  }
  latency(store: 'segments' | 'metadata', operation: string, seconds: number): void {
    this.latencies.push({ store, operation, seconds });
  }
  cacheHit(): void {
    this.hits++;
  }
  cacheMiss(): void {
    this.misses++;
  }
  evicted(store: 'segments' | 'metadata' | 'hot-cache', bytes: number): void {
    this.evictions.push({ store, bytes });
  }
  peerCopied(region: string, lagMs: number): void {
    this.copies.push({ region, lagMs });
  }
  peerCopyFailed(region: string, reason: 'error' | 'overflow'): void {
    this.copyFailures.push({ region, reason });
  }
  peerCopyBacklog(region: string, pending: number): void {
    this.backlogs.push({ region, pending });
  }
  remoteRelease(lagMs: number): void {
    this.releases.push(lagMs);
  }
}

/** The p-th percentile (0..100) of the values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
