import type { Clock } from '../ports/clock.js';
import { systemClock } from './system-clock.js';
import { WriteSequence } from './write-sequence.js';

/**
 * How long after a failed refresh a stale value is served at once (with another refresh in
 * the background) instead of making the next reader wait for a store that just failed.
 */
const FAILED_REFRESH_BACKOFF_MS = 1_000;

export interface ReadCacheBounds {
  /** Up to this age a value is served while one refresh runs in the background. @default 2 x ttl */
  readonly staleWhileRevalidateMs?: number;
  /** Up to this age a value is served when the store fails or is slow to answer. @default 30 s */
  readonly staleIfErrorMs?: number;
}

/** Serving stale metadata during a store fault: long enough for a blip, short enough for an operator to notice. */
export const STALE_IF_ERROR_MS = 30_000;

interface Entry<T> {
  value: T;
  readAt: number;
  /** When the last refresh of this value failed (0: never). */
  failedAt: number;
}

/**
 * A bounded, time-limited cache of store reads with single-flight loading: concurrent misses
 * for one key share one backing read. A local write `patch`es or `invalidate`s the key, which
 * also detaches any read already in flight, so a read that started before the write can never
 * put the older value back (read-your-writes for this instance).
 *
 * Hot keys never wait for the store (RFC 5861's two extensions, for store reads): past the TTL
 * and up to `staleWhileRevalidateMs` the cached value is served while one refresh runs in the
 * background; while a refresh is still running or has just failed, the value is served for up
 * to `staleIfErrorMs`, so readers get it at once rather than queueing behind a slow or dead
 * store. The staleness bound is therefore ttl x 2 while the store answers within a ttl, and
 * `staleIfErrorMs` while it does not (docs/reliability.md).
 */
export class ReadCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly loading = new Map<string, Promise<T>>();
  private readonly writes: WriteSequence;
  private readonly staleWhileRevalidateMs: number;
  private readonly staleIfErrorMs: number;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    bounds: ReadCacheBounds = {},
    /** Ages the entries. */
    private readonly clock: Clock = systemClock,
  ) {
    this.writes = new WriteSequence(maxEntries);
    this.staleWhileRevalidateMs = bounds.staleWhileRevalidateMs ?? 2 * ttlMs;
    this.staleIfErrorMs = bounds.staleIfErrorMs ?? STALE_IF_ERROR_MS;
  }

  /** The cached value if young enough (see the class comment), else one shared load. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (!entry) return this.load(key, load);
    const now = this.clock.now();
    const age = now - entry.readAt;
    if (age < this.ttlMs) return Promise.resolve(entry.value);
    // A refresh that is still running past the revalidate window means the store is slow:
    // queueing behind it would make every reader as slow as the store.
    const storeStruggling = now - entry.failedAt < FAILED_REFRESH_BACKOFF_MS || this.loading.has(key);
    if (age < this.staleWhileRevalidateMs || (storeStruggling && age < this.staleIfErrorMs)) {
      this.load(key, load).catch(() => undefined);
      return Promise.resolve(entry.value);
    }
    if (age >= this.staleIfErrorMs) return this.load(key, load);
    return this.load(key, load).catch(() => {
      if (this.entries.get(key) !== entry) return this.load(key, load);
      return entry.value;
    });
  }

  private load(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.loading.get(key);
    if (pending) return pending;
    const mark = this.writes.mark();
    const startedAt = this.clock.now();
    const promise = load().then(
      (value) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
        if (!this.writes.writtenSince(key, mark)) this.store(key, value, startedAt);
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
        const entry = this.entries.get(key);
        if (entry) entry.failedAt = this.clock.now();
        throw error;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  /** The last value read or written, however old (undefined if never seen or evicted). */
  peek(key: string): T | undefined {
    return this.entries.get(key)?.value;
  }

  /** Applies a local write to the cached value, if any; its age is kept, so the TTL still bounds staleness. */
  patch(key: string, update: (value: T) => T): void {
    this.detach(key);
    const entry = this.entries.get(key);
    if (entry) entry.value = update(entry.value);
  }

  /** Drops the key: the next get reads the store. */
  invalidate(key: string): void {
    this.detach(key);
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
    this.writes.clear();
  }

  private detach(key: string): void {
    this.loading.delete(key);
    this.writes.written(key);
  }

  private store(key: string, value: T, readAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, readAt, failedAt: 0 });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
