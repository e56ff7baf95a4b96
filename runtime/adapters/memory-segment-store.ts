import type { SegmentKey, SegmentStore, StoredBytes } from '../ports/segment-store.js';
import { segmentKeyString } from '../ports/segment-store.js';

export const DEFAULT_MEMORY_BYTES = 1024 * 1024 * 1024;

export interface MemorySegmentStoreOptions {
  /** Total bytes kept; the oldest objects are evicted beyond it. @default 1 GiB */
  readonly maxBytes?: number;
  /** Told of every object evicted to stay under maxBytes. */
  readonly onEvict?: (key: SegmentKey, bytes: number) => void;
}

interface Entry {
  readonly key: SegmentKey;
  readonly stored: StoredBytes;
}

/**
 * Bytes in process memory, bounded: a Map keeps insertion order, so the first entries are the
 * oldest publishes and are evicted first. A replaced object moves to the end.
 */
export class MemorySegmentStore implements SegmentStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(private readonly options: MemorySegmentStoreOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MEMORY_BYTES;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  async put(key: SegmentKey, body: Buffer, meta: { contentType: string; etag: string }): Promise<void> {
    const id = segmentKeyString(key);
    this.remove(id);
    this.entries.set(id, { key, stored: { body, contentType: meta.contentType, etag: meta.etag } });
    this.bytes += body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes || oldest === id) break;
      this.remove(oldest);
      this.options.onEvict?.(entry.key, entry.stored.body.length);
    }
  }

  async get(key: SegmentKey): Promise<StoredBytes | undefined> {
    return this.entries.get(segmentKeyString(key))?.stored;
  }

  async delete(key: SegmentKey): Promise<void> {
    this.remove(segmentKeyString(key));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.stored.body.length;
  }
}
