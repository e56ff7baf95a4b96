import type { StoreObserver } from '../ports/store-observer.js';
import type { Stores } from '../ports/stores.js';
import { LocalPublishFeed } from './local-publish-feed.js';
import { MemoryMetadataStore } from './memory-metadata-store.js';
import { MemorySegmentStore } from './memory-segment-store.js';

/** The embedded store of `npm start`: bytes and metadata in this process, bounded. */
export function createMemoryStores(options: { readonly memoryBytes: number; readonly observer: StoreObserver }): Stores {
  const segments = new MemorySegmentStore({
    maxBytes: options.memoryBytes,
    onEvict: (_key, bytes) => options.observer.evicted('segments', bytes),
  });
  const metadata = new MemoryMetadataStore({
    onEvict: (candidate) => {
      options.observer.evicted('metadata', candidate.size);
      void segments.delete(candidate);
    },
  });
  const feed = new LocalPublishFeed();
  return {
    segments,
    metadata,
    feed,
    async close() {
      await feed.close();
      await metadata.close();
      await segments.close();
    },
  };
}
