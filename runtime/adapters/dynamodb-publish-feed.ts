import type { Candidate, InProgressCandidate } from '../domain/model.js';
import { parseObjectPath } from '../domain/object-path.js';
import type { Cancel, Clock } from '../ports/clock.js';
import type { ArrivingElsewhere, PublishedObject, PublishFeed, PublishListener } from '../ports/publish-feed.js';
import type { StoreObserver } from '../ports/store-observer.js';
import { systemClock } from './system-clock.js';

/** Polling period of watched events: half of the 100 ms release goal. */
export const FEED_POLL_MS = 50;
/**
 * A stream record older than this is not offered for relaying: its PUT (a segment, seconds long)
 * has surely ended, and the record outlived an instance that could not withdraw it.
 */
export const STREAM_RECORD_STALE_MS = 30_000;
/** An event's stream records from a poll older than this are not offered: the PUTs may have ended since. */
export const STREAMS_FRESH_MS = 1_000;
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
  /** PUTs of the event being received by some instance (this one's included). */
  readonly streams: readonly ArrivingElsewhere[];
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
  /** Records a PUT this instance receives, relayable from `relay`. */
  putStream(candidate: InProgressCandidate, relay: string): Promise<void>;
  /** Withdraws that record (only if it is still this PUT's). */
  deleteStream(candidate: InProgressCandidate, relay: string): Promise<void>;
}

export interface DynamoDbPublishFeedOptions {
  readonly source: WatchedObjectSource;
  readonly observer: StoreObserver;
  /** @default 50 */
  readonly pollMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
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
  /** Relay URLs of the streams of this object its listeners were told of. */
  readonly streamsSeen: Set<string>;
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
  /**
   * Each polled event's stream records at its last poll. Kept past the last watch of the event
   * (the requests it woke look them up after they stopped watching), and offered while fresh.
   */
  private readonly streams = new Map<string, { readonly polledAt: number; readonly streams: readonly ArrivingElsewhere[] }>();
  private readonly pollMs: number;
  private cancelTimer: Cancel | undefined;
  private readonly clock: Clock;
  private polling: Promise<void> | undefined;
  private pollsStarted = 0;
  private closed = false;

  constructor(private readonly options: DynamoDbPublishFeedOptions) {
    this.pollMs = options.pollMs ?? FEED_POLL_MS;
    this.clock = options.clock ?? systemClock;
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
    this.watches.set(id, { object, numbered: numberedOf(object.path), read: false, released: false, watchers: 1, seen, streamsSeen: new Set() });
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

  streamStarted(candidate: InProgressCandidate, relay: string): void {
    this.options.source.putStream(candidate, relay).catch(() => this.options.observer.fault('feed', 'putStream', 'error'));
  }

  streamEnded(candidate: InProgressCandidate, relay: string): void {
    this.options.source.deleteStream(candidate, relay).catch(() => this.options.observer.fault('feed', 'deleteStream', 'error'));
  }

  arriving(object: PublishedObject): readonly ArrivingElsewhere[] {
    const polled = this.streams.get(object.event);
    const now = this.clock.now();
    if (!polled || now - polled.polledAt > STREAMS_FRESH_MS) return NONE;
    const fresh = now - STREAM_RECORD_STALE_MS;
    return polled.streams.filter((stream) => stream.candidate.path === object.path && stream.candidate.startedAt >= fresh);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.watches.clear();
    this.signatures.clear();
    this.streams.clear();
    this.listeners.length = 0;
    await this.polling;
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.cancelTimer || this.polling || this.watches.size === 0) return;
    this.cancelTimer = this.clock.after(delayMs, () => {
      this.cancelTimer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
      });
    });
  }

  private async poll(): Promise<void> {
    const pollNumber = ++this.pollsStarted;
    const watches = [...this.watches.values()];
    let next = this.pollMs;
    try {
      const { published, toRead, streaming } = await this.pollEvents(watches);
      for (const watch of streaming) {
        if (this.closed) break;
        this.emit(watch.object);
      }
      const results = toRead.length === 0 ? new Map<PublishedObject, ObjectPoll>() : await this.options.source.pollObjects(toRead.map((watch) => watch.object));
      const now = this.clock.now();
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
  private async pollEvents(watches: readonly Watch[]): Promise<{ published: Map<Watch, number>; toRead: Watch[]; streaming: Watch[] }> {
    const events = [...new Set(watches.map((watch) => watch.object.event))];
    const polls = await Promise.all(events.map((event) => this.options.source.pollEvent(event)));
    const byEvent = new Map(events.map((event, i) => [event, polls[i]!]));
    const active = new Set<string>();
    for (const [event, poll] of byEvent) {
      if (this.signatures.get(event) !== poll.signature) active.add(event);
      this.signatures.set(event, poll.signature);
      this.streams.set(event, { polledAt: this.clock.now(), streams: poll.streams });
    }
    for (const [event, polled] of this.streams) if (this.clock.now() - polled.polledAt > STREAMS_FRESH_MS) this.streams.delete(event);
    const published = new Map<Watch, number>();
    const toRead: Watch[] = [];
    // A PUT of a watched object began on some instance: its listeners wake to relay it.
    const streaming: Watch[] = [];
    for (const watch of watches) {
      let started = false;
      for (const stream of byEvent.get(watch.object.event)!.streams) {
        if (stream.candidate.path !== watch.object.path || watch.streamsSeen.has(stream.relay)) continue;
        watch.streamsSeen.add(stream.relay);
        started = true;
      }
      if (started) streaming.push(watch);
    }
    for (const watch of watches) {
      if (!watch.numbered) {
        if (!watch.read || active.has(watch.object.event)) toRead.push(watch);
        continue;
      }
      const at = byEvent.get(watch.object.event)!.published.get(watch.numbered.rendition)?.get(watch.numbered.number);
      if (!watch.released && at !== undefined) published.set(watch, at);
    }
    return { published, toRead, streaming };
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

const NONE: readonly ArrivingElsewhere[] = [];

function keyOf(object: PublishedObject): string {
  return `${object.event}\n${object.path}`;
}
