import type { Candidate, InProgressCandidate } from '../domain/model.js';
import type { Clock } from '../ports/clock.js';
import type { ArrivingElsewhere, PublishedObject, PublishFeed, PublishListener } from '../ports/publish-feed.js';
import { STREAMS_FRESH_MS, type WatchedObjectSource } from './dynamodb-publish-feed.js';

/**
 * One publish-feed poller per host (LIVE_ORIGIN_WORKERS > 1): the primary process polls
 * DynamoDB for every object any worker waits for, once, and tells the workers that wait; each
 * worker's feed is a thin client over the cluster's IPC channel. Without it every worker polled
 * each watched event's partition every 50 ms on its own: with one worker per vCPU, that many
 * times the read cost. Publishes acknowledged by one worker reach the other workers of the host
 * at once, through the primary, without waiting for a poll.
 */

/** What travels over the channel (JSON), under one key so other cluster messages pass by. */
export type FeedMessage =
  | { readonly liveOriginFeed: 'watch'; readonly object: PublishedObject; readonly seen?: readonly Candidate[] }
  | { readonly liveOriginFeed: 'unwatch'; readonly object: PublishedObject }
  | { readonly liveOriginFeed: 'announce'; readonly object: PublishedObject }
  | { readonly liveOriginFeed: 'streamStarted' | 'streamEnded'; readonly candidate: InProgressCandidate; readonly relay: string }
  | { readonly liveOriginFeed: 'published'; readonly object: PublishedObject; readonly arriving: readonly ArrivingElsewhere[] };

export function isFeedMessage(message: unknown): message is FeedMessage {
  return typeof message === 'object' && message !== null && 'liveOriginFeed' in message;
}

/** A worker's end of the IPC channel (process.send / process.on('message') in a cluster worker). */
export interface FeedChannel {
  send(message: FeedMessage): void;
  onMessage(handler: (message: FeedMessage) => void): void;
}

/** The worker's own metadata cache, which the primary's polls cannot reach. */
export interface WorkerCache {
  /** Candidates as this worker last read them: the baseline the primary compares a new watch with. */
  lastSeen(object: PublishedObject): readonly Candidate[] | undefined;
  /** Drops the cached object before listeners hear of a publish, so their reads see it. */
  invalidateObject(object: PublishedObject): void;
}

/** The publish feed of a worker: watches and its own publishes go to the primary, releases come back. */
export class ClusterPublishFeed implements PublishFeed {
  private readonly listeners: PublishListener[] = [];
  private readonly watching = new Map<string, number>();
  private readonly arrivingByObject = new Map<string, { readonly at: number; readonly arriving: readonly ArrivingElsewhere[] }>();
  private closed = false;

  constructor(
    private readonly channel: FeedChannel,
    private readonly cache: WorkerCache,
    private readonly clock: Clock,
  ) {
    channel.onMessage((message) => this.receive(message));
  }

  announce(object: PublishedObject): void {
    this.emit(object);
    this.send({ liveOriginFeed: 'announce', object });
  }

  watch(object: PublishedObject): void {
    const key = keyOf(object);
    const count = this.watching.get(key) ?? 0;
    this.watching.set(key, count + 1);
    if (count === 0) this.send({ liveOriginFeed: 'watch', object, seen: this.cache.lastSeen(object) });
  }

  unwatch(object: PublishedObject): void {
    const key = keyOf(object);
    const count = this.watching.get(key) ?? 0;
    if (count <= 1) {
      this.watching.delete(key);
      if (count === 1) this.send({ liveOriginFeed: 'unwatch', object });
    } else {
      this.watching.set(key, count - 1);
    }
  }

  subscribe(listener: PublishListener): void {
    this.listeners.push(listener);
  }

  streamStarted(candidate: InProgressCandidate, relay: string): void {
    this.send({ liveOriginFeed: 'streamStarted', candidate, relay });
  }

  streamEnded(candidate: InProgressCandidate, relay: string): void {
    this.send({ liveOriginFeed: 'streamEnded', candidate, relay });
  }

  arriving(object: PublishedObject): readonly ArrivingElsewhere[] {
    const known = this.arrivingByObject.get(keyOf(object));
    return known && this.clock.now() - known.at <= STREAMS_FRESH_MS ? known.arriving : NONE;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.length = 0;
    this.watching.clear();
    this.arrivingByObject.clear();
  }

  private receive(message: FeedMessage): void {
    if (this.closed) return;
    if (message.liveOriginFeed === 'published') {
      const key = keyOf(message.object);
      if (message.arriving.length > 0) this.arrivingByObject.set(key, { at: this.clock.now(), arriving: message.arriving });
      else this.arrivingByObject.delete(key);
      this.cache.invalidateObject(message.object);
      this.emit(message.object);
    } else if (message.liveOriginFeed === 'announce') {
      // Another worker of this host acknowledged a publish: the metadata changed under this worker's cache.
      this.cache.invalidateObject(message.object);
      this.emit(message.object);
    }
  }

  private send(message: FeedMessage): void {
    if (!this.closed) this.channel.send(message);
  }

  private emit(object: PublishedObject): void {
    for (const listener of [...this.listeners]) listener(object);
  }
}

/** A worker as the primary sees it. */
export interface HubWorker {
  readonly id: number;
  send(message: FeedMessage): void;
}

/**
 * The primary's side: one feed (the DynamoDB feed, polling through `baselineSource`'s source)
 * for every object any worker waits for, releases sent to the workers that wait, and each
 * worker's own publishes passed on to the others at once.
 */
export class ClusterFeedHub {
  private readonly workers = new Map<number, HubWorker>();
  /** Which workers wait for each object. */
  private readonly watchers = new Map<string, Set<number>>();
  /** While a worker's publish is announced: the workers hear of it from the broadcast instead. */
  private announcing = false;

  constructor(
    private readonly feed: PublishFeed,
    private readonly baselines: Map<string, readonly Candidate[]>,
    /** Closes what the feed polls through (the primary's store and client). */
    private readonly release: () => Promise<void> = async () => undefined,
  ) {
    feed.subscribe((object) => this.released(object));
  }

  /** A worker joined; returns the handler of its messages. */
  attach(worker: HubWorker): (message: unknown) => void {
    this.workers.set(worker.id, worker);
    return (message) => {
      if (isFeedMessage(message)) this.receive(worker, message);
    };
  }

  /** A worker left (exited): its watches end. */
  detach(worker: HubWorker): void {
    this.workers.delete(worker.id);
    for (const [key, ids] of [...this.watchers]) {
      if (ids.delete(worker.id) && ids.size === 0) this.stopWatching(key);
    }
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.release();
  }

  private receive(worker: HubWorker, message: FeedMessage): void {
    switch (message.liveOriginFeed) {
      case 'watch': {
        const key = keyOf(message.object);
        let ids = this.watchers.get(key);
        if (!ids) {
          ids = new Set();
          this.watchers.set(key, ids);
          if (message.seen) this.baselines.set(key, message.seen);
          this.feed.watch(message.object);
        }
        ids.add(worker.id);
        break;
      }
      case 'unwatch': {
        const key = keyOf(message.object);
        const ids = this.watchers.get(key);
        if (ids?.delete(worker.id) && ids.size === 0) this.stopWatching(key, message.object);
        break;
      }
      case 'announce': {
        this.announcing = true;
        try {
          this.feed.announce(message.object);
        } finally {
          this.announcing = false;
        }
        for (const other of this.workers.values()) {
          if (other.id !== worker.id) other.send({ liveOriginFeed: 'announce', object: message.object });
        }
        break;
      }
      case 'streamStarted':
        this.feed.streamStarted(message.candidate, message.relay);
        break;
      case 'streamEnded':
        this.feed.streamEnded(message.candidate, message.relay);
        break;
    }
  }

  private released(object: PublishedObject): void {
    const ids = this.watchers.get(keyOf(object));
    if (!ids || this.announcing) return;
    const arriving = this.feed.arriving(object);
    for (const id of ids) this.workers.get(id)?.send({ liveOriginFeed: 'published', object, arriving });
  }

  private stopWatching(key: string, object?: PublishedObject): void {
    this.watchers.delete(key);
    this.baselines.delete(key);
    const [event, ...path] = key.split('\n');
    this.feed.unwatch(object ?? { event: event!, path: path.join('\n') });
  }
}

/**
 * The primary's poll source: DynamoDB's, with the baseline a worker sent when it started
 * watching (the primary reads no objects itself, so its own cache knows none).
 */
export function baselineSource(source: WatchedObjectSource, baselines: Map<string, readonly Candidate[]>): WatchedObjectSource {
  return {
    lastSeen: (object) => baselines.get(keyOf(object)) ?? source.lastSeen(object),
    invalidateObject: (object) => source.invalidateObject(object),
    pollEvent: (event) => source.pollEvent(event),
    pollObjects: (objects) => source.pollObjects(objects),
    putStream: (candidate, relay) => source.putStream(candidate, relay),
    deleteStream: (candidate, relay) => source.deleteStream(candidate, relay),
  };
}

const NONE: readonly ArrivingElsewhere[] = [];

function keyOf(object: PublishedObject): string {
  return `${object.event}\n${object.path}`;
}
