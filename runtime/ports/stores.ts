import type { MetadataStore } from './metadata-store.js';
import type { PublishFeed } from './publish-feed.js';
import type { SegmentStore } from './segment-store.js';

/** The storage a server instance runs on, chosen once by the server entry. */
export interface Stores {
  readonly segments: SegmentStore;
  readonly metadata: MetadataStore;
  readonly feed: PublishFeed;
  close(): Promise<void>;
}
