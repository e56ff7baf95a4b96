import type { SegmentKey, SegmentStore, StoredBytes } from '../ports/segment-store.js';
import { segmentKeyString } from '../ports/segment-store.js';
import type { StoreObserver } from '../ports/store-observer.js';
import { WriteSequence } from './write-sequence.js';

/** Local writes remembered for reads in flight (older ones fall back to "written": served, not cached). */
const MAX_TRACKED_WRITES = 10_000;

export interface HotCacheOptions {
  /** Total body bytes kept (LIVE_ORIGIN_MEMORY_BYTES); least recently used objects go first. */
  readonly maxBytes: number;
  readonly observer: StoreObserver;
}

/**
 * Keeps recently written and read objects in memory in front of a durable SegmentStore.
 * Write-through: a put is cached only once the backing store has it. Concurrent misses for one
 * key share one backing read. Cached objects are served without touching the backing store, so
 * they stay available while it is down.
 */
export class HotCache implements SegmentStore {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, StoredBytes>();
  private readonly reads = new Map<string, Promise<StoredBytes | undefined>>();
  private readonly writes = new WriteSequence(MAX_TRACKED_WRITES);
  private bytes = 0;

  constructor(
    private readonly backing: SegmentStore,
    private readonly options: HotCacheOptions,
  ) {}

  get usedBytes(): number {
    return this.bytes;
  }

  async put(key: SegmentKey, body: Buffer, meta: { readonly contentType: string; readonly etag: string }): Promise<void> {
    const id = segmentKeyString(key);
    this.bump(id);
    await this.backing.put(key, body, meta);
    this.bump(id);
    this.remember(id, { body, contentType: meta.contentType, etag: meta.etag });
  }

  async get(key: SegmentKey, expectEtag?: string): Promise<StoredBytes | undefined> {
    const id = segmentKeyString(key);
    const cached = this.entries.get(id);
    if (cached && (expectEtag === undefined || cached.etag === expectEtag)) {
      this.entries.delete(id);
      this.entries.set(id, cached);
      this.options.observer.cacheHit();
      return cached;
    }
    this.options.observer.cacheMiss();
    const pending = this.reads.get(id);
    if (pending) {
      const shared = await pending;
      // A read that started before a newer version was announced may carry the old one.
      if (expectEtag === undefined || shared?.etag === expectEtag) return shared;
    }
    return this.load(key, id, expectEtag);
  }

  async delete(key: SegmentKey): Promise<void> {
    const id = segmentKeyString(key);
    this.bump(id);
    this.forget(id);
    await this.backing.delete(key);
  }

  ping(): Promise<void> {
    return this.backing.ping();
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.reads.clear();
    this.writes.clear();
    this.bytes = 0;
    await this.backing.close();
  }

  private load(key: SegmentKey, id: string, expectEtag: string | undefined): Promise<StoredBytes | undefined> {
    const mark = this.writes.mark();
    const read = this.backing.get(key, expectEtag).finally(() => {
      if (this.reads.get(id) === read) this.reads.delete(id);
    });
    this.reads.set(id, read);
    return read.then((stored) => {
      if (stored && !this.writes.writtenSince(id, mark)) this.remember(id, stored);
      return stored;
    });
  }

  private remember(id: string, stored: StoredBytes): void {
    this.forget(id);
    if (stored.body.length > this.options.maxBytes) return;
    this.entries.set(id, stored);
    this.bytes += stored.body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.forget(oldest);
      this.options.observer.evicted('hot-cache', entry.body.length);
    }
  }

  private forget(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.body.length;
  }

  /** Marks a local write of the key and detaches reads in flight for it. */
  private bump(id: string): void {
    this.reads.delete(id);
    this.writes.written(id);
  }
}
