import type { Candidate } from '../domain/model.js';
import type { PublishFeed, PublishListener, PublishedObject } from '../ports/publish-feed.js';
import type { StoreObserver } from '../ports/store-observer.js';

/** Polling period of watched objects: half of the 100 ms release goal. */
export const FEED_POLL_MS = 50;
/** After a failed poll, wait this long before the next (one fault report per wait, not 20 a second). */
const FEED_ERROR_BACKOFF_MS = 1_000;

/** What one poll learned of one object. */
export interface ObjectPoll {
  /** The pipelines whose candidates were read ('all': the whole object was read). */
  readonly pipelines: readonly string[] | 'all';
  /** The candidates found among those pipelines. */
  readonly candidates: readonly Candidate[];
}

/** The metadata store's side of the feed: batched reads of watched objects and its read cache. */
export interface WatchedObjectSource {
  /** Candidates as this instance last read or wrote them (the baseline a new watch compares with). */
  lastSeen(object: PublishedObject): readonly Candidate[] | undefined;
  /** Called before listeners hear of a remote publish, so their reads see it. */
  invalidateObject(object: PublishedObject): void;
  /** A few batched, strongly consistent reads for all the objects; unread objects are absent. */
  pollObjects(objects: readonly PublishedObject[]): Promise<Map<PublishedObject, ObjectPoll>>;
}

export interface DynamoDbPublishFeedOptions {
  readonly source: WatchedObjectSource;
  readonly observer: StoreObserver;
  /** @default 50 */
  readonly pollMs?: number;
}

interface Watch {
  readonly object: PublishedObject;
  watchers: number;
  /** Last known candidate per pipeline. */
  readonly seen: Map<string, Candidate>;
  /** Set by a local announce: the next poll started after it only takes a new baseline. */
  quietAfterPoll?: number;
}

/**
 * Releases held requests across instances. Each watched object (however many requests wait
 * for it) is polled together with every other in a few batched reads every `pollMs`; a new or
 * changed candidate invalidates the metadata cache, then tells the listeners. Local publishes
 * reach listeners at once through announce().
 */
export class DynamoDbPublishFeed implements PublishFeed {
  private readonly watches = new Map<string, Watch>();
  private readonly listeners: PublishListener[] = [];
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollsStarted = 0;
  private closed = false;

  constructor(private readonly options: DynamoDbPublishFeedOptions) {
    this.pollMs = options.pollMs ?? FEED_POLL_MS;
  }

  announce(object: PublishedObject): void {
    const watch = this.watches.get(keyOf(object));
    if (watch) watch.quietAfterPoll = this.pollsStarted;
    this.emit(object);
  }

  watch(object: PublishedObject): void {
    const id = keyOf(object);
    const existing = this.watches.get(id);
    if (existing) {
      existing.watchers++;
      return;
    }
    const seen = new Map((this.options.source.lastSeen(object) ?? []).map((candidate) => [candidate.pipeline, candidate]));
    this.watches.set(id, { object, watchers: 1, seen });
    this.schedule(this.pollMs);
  }

  unwatch(object: PublishedObject): void {
    const id = keyOf(object);
    const watch = this.watches.get(id);
    if (watch && --watch.watchers <= 0) this.watches.delete(id);
  }

  subscribe(listener: PublishListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.watches.clear();
    this.listeners.length = 0;
    await this.polling;
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer || this.polling || this.watches.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const pollNumber = ++this.pollsStarted;
    const watches = [...this.watches.values()];
    let next = this.pollMs;
    try {
      const results = await this.options.source.pollObjects(watches.map((watch) => watch.object));
      const now = Date.now();
      for (const watch of watches) {
        const poll = results.get(watch.object);
        if (!poll || this.closed) continue;
        const { changed, newestPublish } = compare(watch.seen, poll);
        if (watch.quietAfterPoll !== undefined && pollNumber > watch.quietAfterPoll) {
          // This poll already reflects the local publish that was announced.
          watch.quietAfterPoll = undefined;
          continue;
        }
        if (!changed) continue;
        this.options.source.invalidateObject(watch.object);
        if (newestPublish !== undefined) this.options.observer.remoteRelease(Math.max(0, now - newestPublish));
        this.emit(watch.object);
      }
    } catch {
      this.options.observer.fault('feed', 'poll', 'error');
      next = FEED_ERROR_BACKOFF_MS;
    }
    this.polling = undefined;
    this.schedule(next);
  }

  private emit(object: PublishedObject): void {
    for (const listener of [...this.listeners]) listener(object);
  }
}

/**
 * Updates the baseline with what the poll read and tells whether anything differs, and the
 * publish time of the newest new version (for the release delay).
 */
function compare(seen: Map<string, Candidate>, poll: ObjectPoll): { changed: boolean; newestPublish?: number } {
  const found = new Map(poll.candidates.map((candidate) => [candidate.pipeline, candidate]));
  const scope = poll.pipelines === 'all' ? new Set([...seen.keys(), ...found.keys()]) : poll.pipelines;
  let changed = false;
  let newestPublish: number | undefined;
  for (const pipeline of scope) {
    const before = seen.get(pipeline);
    const after = found.get(pipeline);
    if (sameVersion(before, after)) continue;
    changed = true;
    if (after && (!before || before.etag !== after.etag || before.publishedAt !== after.publishedAt)) {
      newestPublish = Math.max(newestPublish ?? 0, after.publishedAt);
    }
    if (after) seen.set(pipeline, after);
    else seen.delete(pipeline);
  }
  return { changed, newestPublish };
}

function sameVersion(a: Candidate | undefined, b: Candidate | undefined): boolean {
  if (!a || !b) return a === b;
  return a.etag === b.etag && a.publishedAt === b.publishedAt && a.defects.join(',') === b.defects.join(',');
}

function keyOf(object: PublishedObject): string {
  return `${object.event}\n${object.path}`;
}
