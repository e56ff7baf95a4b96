import { WriteSequence } from './write-sequence.js';

/**
 * A bounded, time-limited cache of store reads with single-flight loading: concurrent misses
 * for one key share one backing read. A local write `patch`es or `invalidate`s the key, which
 * also detaches any read already in flight, so a read that started before the write can never
 * put the older value back (read-your-writes for this instance).
 */
export class ReadCache<T> {
  private readonly entries = new Map<string, { value: T; readAt: number }>();
  private readonly loading = new Map<string, Promise<T>>();
  private readonly writes: WriteSequence;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {
    this.writes = new WriteSequence(maxEntries);
  }

  /** The cached value if younger than the TTL, else one shared load. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && Date.now() - entry.readAt < this.ttlMs) return Promise.resolve(entry.value);
    const pending = this.loading.get(key);
    if (pending) return pending;
    const mark = this.writes.mark();
    const startedAt = Date.now();
    const promise = load().then(
      (value) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
        if (!this.writes.writtenSince(key, mark)) this.store(key, value, startedAt);
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
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
    this.entries.set(key, { value, readAt });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
