import type { Candidate } from '../domain/model.js';
import { parseObjectPath } from '../domain/object-path.js';
import type { PublishedObject, PublishFeed, PublishListener } from '../ports/publish-feed.js';
import type { StoreObserver } from '../ports/store-observer.js';

/** Polling period of watched events: half of the 100 ms release goal. */
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

/** What one poll learned of one event's publish records. */
export interface EventPoll {
  /** Per rendition template, number -> epoch ms of its first publish by any pipeline (the rendition's recent window). */
  readonly published: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** Changes whenever any pipeline of the event publishes (its stats). */
  readonly signature: string;
}

/** The metadata store's side of the feed: per-event polls, batched reads of watched objects, and its read cache. */
export interface WatchedObjectSource {
  /** Candidates as this instance last read or wrote them (the baseline a new watch compares with). */
  lastSeen(object: PublishedObject): readonly Candidate[] | undefined;
  /** Called before listeners hear of a remote publish, so their reads see it. */
  invalidateObject(object: PublishedObject): void;
  /** The event's publish records, strongly consistent, in one read whose cost grows with renditions, not objects. */
  pollEvent(event: string): Promise<EventPoll>;
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
  /** For a numbered object: its rendition template and number, as the event's records name them. */
  readonly numbered?: { readonly rendition: string; readonly number: number };
  /** Read at least once (unnumbered objects are read on their first poll, then when the event publishes). */
  read: boolean;
  /** A numbered object whose publish record has been seen (and its listeners told). */
  released: boolean;
  watchers: number;
  /** Last known candidate per pipeline. */
  readonly seen: Map<string, Candidate>;
  /** Set by a local announce: the next poll started after it only takes a new baseline. */
  quietAfterPoll?: number;
}

/**
 * Releases held requests across instances. Every `pollMs`, each event with watched objects is
 * polled once (`pollEvent`: its pipeline stats and rendition records, which every ingest
 * writes after the candidate and before its ack), however many objects and requests wait in
 * it. A numbered object (segment, part) is released when its number appears in its
 * rendition's record; an unnumbered one (a playlist) is read, in a few batched reads, on its
 * first poll and whenever its event published anything, and released when its candidates
 * changed. Either way the object's cache entry is dropped before the listeners are told. So
 * the read cost grows with events and renditions, not with watched objects or viewers. Local
 * publishes reach listeners at once through announce().
 */
export class DynamoDbPublishFeed implements PublishFeed {
  private readonly watches = new Map<string, Watch>();
  private readonly listeners: PublishListener[] = [];
  /** Each watched event's publish signature at its last poll. */
  private readonly signatures = new Map<string, string>();
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
    this.watches.set(id, { object, numbered: numberedOf(object.path), read: false, released: false, watchers: 1, seen });
    this.schedule(this.pollMs);
  }

  unwatch(object: PublishedObject): void {
    const id = keyOf(object);
    const watch = this.watches.get(id);
    if (watch && --watch.watchers <= 0) {
      this.watches.delete(id);
      if (![...this.watches.values()].some((other) => other.object.event === object.event)) this.signatures.delete(object.event);
    }
  }

  subscribe(listener: PublishListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.watches.clear();
    this.signatures.clear();
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
      const { published, toRead } = await this.pollEvents(watches);
      const results = toRead.length === 0 ? new Map<PublishedObject, ObjectPoll>() : await this.options.source.pollObjects(toRead.map((watch) => watch.object));
      const now = Date.now();
      for (const [watch, at] of published) {
        if (this.closed) break;
        watch.released = true;
        if (watch.quietAfterPoll !== undefined && pollNumber > watch.quietAfterPoll) {
          watch.quietAfterPoll = undefined;
          continue;
        }
        this.options.source.invalidateObject(watch.object);
        this.options.observer.remoteRelease(Math.max(0, now - at));
        this.emit(watch.object);
      }
      for (const watch of toRead) {
        const poll = results.get(watch.object);
        if (!poll || this.closed) continue;
        watch.read = true;
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

  /**
   * Polls each watched event once. Returns the numbered objects whose number now appears in
   * their rendition's record (with its first publish time), and the unnumbered objects worth
   * reading: on their first poll, and whenever their event's pipelines published since the last.
   */
  private async pollEvents(watches: readonly Watch[]): Promise<{ published: Map<Watch, number>; toRead: Watch[] }> {
    const events = [...new Set(watches.map((watch) => watch.object.event))];
    const polls = await Promise.all(events.map((event) => this.options.source.pollEvent(event)));
    const byEvent = new Map(events.map((event, i) => [event, polls[i]!]));
    const active = new Set<string>();
    for (const [event, poll] of byEvent) {
      if (this.signatures.get(event) !== poll.signature) active.add(event);
      this.signatures.set(event, poll.signature);
    }
    const published = new Map<Watch, number>();
    const toRead: Watch[] = [];
    for (const watch of watches) {
      if (!watch.numbered) {
        if (!watch.read || active.has(watch.object.event)) toRead.push(watch);
        continue;
      }
      const at = byEvent.get(watch.object.event)!.published.get(watch.numbered.rendition)?.get(watch.numbered.number);
      if (!watch.released && at !== undefined) published.set(watch, at);
    }
    return { published, toRead };
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

/** The rendition and number the event's records file a path under, if it has a number. */
function numberedOf(path: string): Watch['numbered'] {
  try {
    const object = parseObjectPath(path);
    return object.rendition !== undefined && object.number !== undefined ? { rendition: object.rendition, number: object.number } : undefined;
  } catch {
    return undefined;
  }
}

function keyOf(object: PublishedObject): string {
  return `${object.event}\n${object.path}`;
}
