import type { EventState } from '../domain/model.js';
import type { Clock } from '../ports/clock.js';
import type { EventRecord } from './dynamodb-items.js';
import { objectPartition } from './dynamodb-items.js';
import type { StoredObject } from './dynamodb-tables.js';
import { ReadCache } from './read-cache.js';

const MAX_CACHED_OBJECTS = 50_000;
const MAX_CACHED_EVENTS = 10_000;

/**
 * This instance's cache of metadata reads: objects (candidates and pin) and events, each held
 * for at most `cacheMs`, plus the events known to exist. The store patches or drops entries on
 * its own writes, so this instance reads them back at once; other instances' writes show when
 * an entry expires or the feed drops it.
 */
export class MetadataCache {
  private readonly objects: ReadCache<StoredObject>;
  private readonly events: ReadCache<EventRecord>;
  /** Events known to exist (they are never deleted), so ensureEvent costs nothing after the first. */
  private readonly knownEvents = new Set<string>();

  constructor(cacheMs: number, clock: Clock) {
    this.objects = new ReadCache(cacheMs, MAX_CACHED_OBJECTS, {}, clock);
    this.events = new ReadCache(cacheMs, MAX_CACHED_EVENTS, {}, clock);
  }

  /** The event's record, cached or from `load`; an event found to exist is remembered as existing. */
  event(event: string, load: () => Promise<EventRecord>): Promise<EventRecord> {
    return this.events.get(event, async () => {
      const record = await load();
      if (record.state) this.remember(event);
      return record;
    });
  }

  object(event: string, path: string, load: () => Promise<StoredObject>): Promise<StoredObject> {
    return this.objects.get(objectPartition(event, path), load);
  }

  /** The event exists, as far as this instance knows (it remembered it, or holds its state). */
  knowsEvent(event: string): boolean {
    return this.knownEvents.has(event) || this.holdsEventState(event);
  }

  /** The cached record has the event's state (not a cached "unknown event"). */
  holdsEventState(event: string): boolean {
    return this.events.peek(event)?.state !== undefined;
  }

  /** The object as this instance last read or wrote it, however old. */
  lastSeenObject(event: string, path: string): StoredObject | undefined {
    return this.objects.peek(objectPartition(event, path));
  }

  remember(event: string): void {
    if (this.knownEvents.size >= MAX_CACHED_EVENTS) this.knownEvents.clear();
    this.knownEvents.add(event);
  }

  patchEvent(event: string, update: (state: EventState) => EventState): void {
    this.events.patch(event, (record) => (record.state ? { ...record, state: update(record.state) } : record));
  }

  patchObject(event: string, path: string, update: (object: StoredObject) => StoredObject): void {
    this.objects.patch(objectPartition(event, path), update);
  }

  invalidateEvent(event: string): void {
    this.events.invalidate(event);
  }

  invalidateObject(event: string, path: string): void {
    this.objects.invalidate(objectPartition(event, path));
  }

  clear(): void {
    this.objects.clear();
    this.events.clear();
    this.knownEvents.clear();
  }
}
