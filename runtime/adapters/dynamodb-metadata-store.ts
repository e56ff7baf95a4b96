import { randomBytes } from 'node:crypto';
import type { AttributeValue, DynamoDBClient, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY as PK, TABLE_SORT_KEY as SK, TABLE_SUFFIXES, TABLE_TTL_ATTRIBUTE as TTL } from '../aws-contract.js';
import type { Candidate, EventConfig, EventState, Mask } from '../domain/model.js';
import { RENDITION_HISTORY } from '../domain/model.js';
import { mergeNotifications } from '../domain/notifications.js';
import type { MetadataStore, ObjectRecord, PublishInfo } from '../ports/metadata-store.js';
import type { PublishedObject } from '../ports/publish-feed.js';
import type { StoreObserver } from '../ports/store-observer.js';
import type { CallOptions } from './aws-retry.js';
import { awsCall, errorName, WRITE_FAULT_MS } from './aws-retry.js';
import type { EventRecord, Item, StoredPin } from './dynamodb-items.js';
import {
  CONFIG_SORT_KEY,
  candidateExpiry,
  candidateFromItem,
  candidateItem,
  EVENT_ITEM_RETENTION_S,
  eventFromItems,
  maskItem,
  NOTIFY_ATTRIBUTE_PREFIX,
  NOTIFY_SORT_KEY,
  n,
  notificationsFromItem,
  objectPartition,
  PIN_SORT_KEY,
  PIPELINE_PREFIX,
  PUBLISH_ATTRIBUTE_PREFIX,
  pinFromItem,
  pipelineFromItem,
  RENDITION_PREFIX,
  renditionFromItem,
  renditionPublishes,
  s,
} from './dynamodb-items.js';
import type { EventPoll, ObjectPoll, WatchedObjectSource } from './dynamodb-publish-feed.js';
import { ReadCache } from './read-cache.js';

/**
 * How long a read may be served from this instance's cache. The contract allows one second
 * of staleness across instances; half of it leaves room for the read itself.
 */
export const METADATA_CACHE_MS = 500;
const MAX_CACHED_OBJECTS = 50_000;
const MAX_CACHED_EVENTS = 10_000;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;
/** A rendition item is trimmed back to the history once it holds twice as many numbers. */
const RENDITION_TRIM_AT = 2 * RENDITION_HISTORY;

interface CachedObject {
  readonly candidates: readonly Candidate[];
  readonly pin?: StoredPin;
}

export interface DynamoDbMetadataStoreOptions {
  readonly client: DynamoDBClient;
  /** LIVE_ORIGIN_TABLE_PREFIX; tables are `${prefix}candidates` and `${prefix}events`. */
  readonly tablePrefix: string;
  readonly observer: StoreObserver;
  /** @default 500 */
  readonly writeFaultMs?: number;
  /** @default 500 (METADATA_CACHE_MS) */
  readonly cacheMs?: number;
}

/**
 * Metadata in two DynamoDB tables (layout in dynamodb-items.ts). Reads are strongly consistent
 * and cached for at most `cacheMs`; this instance's own writes patch or drop its cache entries,
 * so it reads them back at once. Pins are compare-and-set with a condition expression.
 */
export class DynamoDbMetadataStore implements MetadataStore, WatchedObjectSource {
  private readonly client: DynamoDBClient;
  private readonly candidates: string;
  private readonly events: string;
  private readonly writeFaultMs: number;
  private readonly objectCache: ReadCache<CachedObject>;
  private readonly eventCache: ReadCache<EventRecord>;
  /** Events known to exist (they are never deleted), so ensureEvent costs nothing after the first. */
  private readonly knownEvents = new Set<string>();

  constructor(private readonly options: DynamoDbMetadataStoreOptions) {
    this.client = options.client;
    this.candidates = `${options.tablePrefix}${TABLE_SUFFIXES.candidates}`;
    this.events = `${options.tablePrefix}${TABLE_SUFFIXES.events}`;
    this.writeFaultMs = options.writeFaultMs ?? WRITE_FAULT_MS;
    const cacheMs = options.cacheMs ?? METADATA_CACHE_MS;
    this.objectCache = new ReadCache(cacheMs, MAX_CACHED_OBJECTS);
    this.eventCache = new ReadCache(cacheMs, MAX_CACHED_EVENTS);
  }

  async getEvent(event: string): Promise<EventState | undefined> {
    return (await this.eventRecord(event)).state;
  }

  async ensureEvent(event: string, at: number): Promise<boolean> {
    if (this.knownEvents.has(event) || this.eventCache.peek(event)?.state) return false;
    const created = await this.call('ensureEvent', true, async (abortSignal) => {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.events,
            Item: { [PK]: s(event), [SK]: s(CONFIG_SORT_KEY), createdAt: n(at), config: s('{}'), pinEpoch: n(0) },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
          { abortSignal },
        );
        return true;
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    });
    this.remember(event);
    // Created here, or by another instance since this one cached "unknown event".
    if (created || !this.eventCache.peek(event)?.state) this.eventCache.invalidate(event);
    return created;
  }

  async putEventConfig(event: string, config: EventConfig, at: number): Promise<boolean> {
    const old = await this.call('putEventConfig', true, (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.events,
          Key: { [PK]: s(event), [SK]: s(CONFIG_SORT_KEY) },
          UpdateExpression: 'SET config = :config, createdAt = if_not_exists(createdAt, :at), pinEpoch = if_not_exists(pinEpoch, :zero)',
          ExpressionAttributeValues: { ':config': s(JSON.stringify(config)), ':at': n(at), ':zero': n(0) },
          ReturnValues: 'UPDATED_OLD',
        }),
        { abortSignal },
      ),
    );
    this.remember(event);
    this.eventCache.invalidate(event);
    return old.Attributes?.createdAt === undefined;
  }

  async mergeNotifications(event: string, update: Readonly<Record<string, string>>): Promise<Readonly<Record<string, string>>> {
    const current = (await this.getEvent(event))?.notifications ?? {};
    // Validates the update (and the per-event bound) before anything is written.
    const expected = mergeNotifications(current, update);
    const names = Object.keys(update);
    if (names.length === 0) return expected;
    const attributeNames: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    names.forEach((name, i) => {
      attributeNames[`#n${i}`] = `${NOTIFY_ATTRIBUTE_PREFIX}${name}`;
      if (update[name] === '') removes.push(`#n${i}`);
      else {
        values[`:v${i}`] = s(update[name]!);
        sets.push(`#n${i} = :v${i}`);
      }
    });
    // One attribute per name: concurrent updates of different names never overwrite each other.
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    const result = await this.call('mergeNotifications', true, (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.events,
          Key: { [PK]: s(event), [SK]: s(NOTIFY_SORT_KEY) },
          UpdateExpression: expression,
          ExpressionAttributeNames: attributeNames,
          ...(sets.length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      ),
    );
    const merged = notificationsFromItem(result.Attributes ?? {});
    this.patchEvent(event, (state) => ({ ...state, notifications: merged }));
    return merged;
  }

  async addMask(event: string, mask: Mask): Promise<void> {
    const config = (await this.getEvent(event))?.config;
    const item = maskItem(event, mask, randomBytes(6).toString('hex'), candidateExpiry(mask.createdAt, config));
    await this.call('addMask', true, (abortSignal) => this.client.send(new PutItemCommand({ TableName: this.events, Item: item }), { abortSignal }));
    this.patchEvent(event, (state) => ({ ...state, masks: [...state.masks, mask].sort((a, b) => a.createdAt - b.createdAt) }));
  }

  async recordPublish(event: string, info: PublishInfo): Promise<void> {
    const expiresAt = Math.floor(info.at / 1000) + EVENT_ITEM_RETENTION_S;
    const [pipeline, rendition] = await Promise.all([
      this.updatePipeline(event, info, expiresAt),
      info.rendition !== undefined && info.number !== undefined
        ? this.updateRendition(event, info.rendition, info.number, info.at, info.width ?? 0, expiresAt)
        : undefined,
    ]);
    this.patchEvent(event, (state) => ({
      ...state,
      pipelines: { ...state.pipelines, [pipeline.pipeline]: pipeline },
      renditions: rendition ? { ...state.renditions, [rendition.rendition]: rendition } : state.renditions,
    }));
  }

  async getObject(event: string, path: string): Promise<ObjectRecord> {
    const [record, object] = await Promise.all([this.eventRecord(event), this.cachedObject(event, path)]);
    const pinned = object.pin && object.pin.epoch === record.pinEpoch ? object.pin.pipeline : undefined;
    return pinned === undefined ? { candidates: object.candidates } : { candidates: object.candidates, pinned };
  }

  async putCandidate(candidate: Candidate): Promise<Candidate | undefined> {
    const config = (await this.getEvent(candidate.event))?.config;
    const item = candidateItem(candidate, candidateExpiry(candidate.publishedAt, config));
    const result = await this.call('putCandidate', true, (abortSignal) =>
      this.client.send(new PutItemCommand({ TableName: this.candidates, Item: item, ReturnValues: 'ALL_OLD' }), { abortSignal }),
    );
    this.patchObject(candidate.event, candidate.path, (object) => ({
      ...object,
      candidates: [...object.candidates.filter((c) => c.pipeline !== candidate.pipeline), candidate],
    }));
    return result.Attributes ? candidateFromItem(result.Attributes) : undefined;
  }

  async setDefects(event: string, pipeline: string, path: string, defects: readonly string[]): Promise<Candidate | undefined> {
    const updated = await this.call('setDefects', true, async (abortSignal) => {
      try {
        const result = await this.client.send(
          new UpdateItemCommand({
            TableName: this.candidates,
            Key: { [PK]: s(objectPartition(event, path)), [SK]: s(pipeline) },
            UpdateExpression: 'SET defects = :defects',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':defects': { L: defects.map(s) } },
            ReturnValues: 'ALL_NEW',
          }),
          { abortSignal },
        );
        return candidateFromItem(result.Attributes!);
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') return undefined;
        throw error;
      }
    });
    if (updated) {
      this.patchObject(event, path, (object) => ({
        ...object,
        candidates: object.candidates.map((c) => (c.pipeline === pipeline ? updated : c)),
      }));
    }
    return updated;
  }

  async deleteCandidate(event: string, pipeline: string, path: string): Promise<Candidate | undefined> {
    const result = await this.call('deleteCandidate', true, (abortSignal) =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.candidates,
          Key: { [PK]: s(objectPartition(event, path)), [SK]: s(pipeline) },
          ReturnValues: 'ALL_OLD',
        }),
        { abortSignal },
      ),
    );
    this.patchObject(event, path, (object) => ({ ...object, candidates: object.candidates.filter((c) => c.pipeline !== pipeline) }));
    return result.Attributes ? candidateFromItem(result.Attributes) : undefined;
  }

  async swapPin(event: string, path: string, expected: string | undefined, next: string): Promise<string> {
    const { pinEpoch, state } = await this.eventRecord(event);
    const expiresAt = candidateExpiry(Date.now(), state?.config);
    let want = expected;
    // Two rounds at most: a failed swap whose pin has meanwhile been cleared becomes a first pin.
    for (let round = 0; round < 2; round++) {
      if (await this.tryPin(event, path, want, next, pinEpoch, expiresAt)) {
        this.patchObject(event, path, (object) => ({ ...object, pin: { pipeline: next, epoch: pinEpoch } }));
        return next;
      }
      const current = await this.readPin(event, path);
      if (current && current.epoch === pinEpoch) {
        // Another instance pinned first, maybe a candidate this instance has not seen yet: a
        // cached object patched with only the pin would pick from stale candidates and swap
        // the pin away again (instances serving different bytes). Read the object afresh.
        this.objectCache.invalidate(objectPartition(event, path));
        return current.pipeline;
      }
      want = undefined;
    }
    throw new Error(`pin of ${event}/${path} keeps changing`);
  }

  async dropPin(event: string, path: string, expected: string): Promise<void> {
    const { pinEpoch } = await this.eventRecord(event);
    await this.call('dropPin', true, async (abortSignal) => {
      try {
        await this.client.send(
          new DeleteItemCommand({
            TableName: this.candidates,
            Key: { [PK]: s(objectPartition(event, path)), [SK]: s(PIN_SORT_KEY) },
            ConditionExpression: 'pipeline = :expected AND epoch = :epoch',
            ExpressionAttributeValues: { ':expected': s(expected), ':epoch': n(pinEpoch) },
          }),
          { abortSignal },
        );
      } catch (error) {
        // Another pin is in force (or none): nothing of ours to drop.
        if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
      }
    });
    this.patchObject(event, path, (object) => (object.pin?.pipeline === expected ? { ...object, pin: undefined } : object));
  }

  async clearPins(event: string): Promise<void> {
    await this.call('clearPins', true, async (abortSignal) => {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.events,
            Key: { [PK]: s(event), [SK]: s(CONFIG_SORT_KEY) },
            UpdateExpression: 'ADD pinEpoch :one',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':one': n(1) },
          }),
          { abortSignal },
        );
      } catch (error) {
        // No such event: it has no pins in force.
        if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
      }
    });
    this.eventCache.invalidate(event);
  }

  async ping(): Promise<void> {
    await this.call('ping', false, (abortSignal) =>
      this.client.send(new GetItemCommand({ TableName: this.candidates, Key: { [PK]: s('#ping'), [SK]: s('#ping') } }), { abortSignal }),
    );
  }

  async close(): Promise<void> {
    this.objectCache.clear();
    this.eventCache.clear();
    this.knownEvents.clear();
  }

  /** The object as this instance last read or wrote it, however old. */
  lastSeen(object: PublishedObject): readonly Candidate[] | undefined {
    return this.objectCache.peek(objectPartition(object.event, object.path))?.candidates;
  }

  /** Drops the cached object, so the next getObject reads what another instance published. */
  invalidateObject(object: PublishedObject): void {
    this.objectCache.invalidate(objectPartition(object.event, object.path));
  }

  /**
   * The event's publish records, consistently read in one Query (the feed's per-event poll):
   * the pipeline stats items, which every ingest updates before its ack, and the rendition
   * items, which record each number's first publish. Sort keys from `pipeline#` on hold
   * exactly these two families, so config, notifications and masks are not read.
   */
  async pollEvent(event: string): Promise<EventPoll> {
    const items = await this.queryAll('poll', this.events, event, PIPELINE_PREFIX);
    const published = new Map<string, Map<number, number>>();
    const stats: string[] = [];
    for (const item of items) {
      const sk = item[SK]?.S ?? '';
      if (sk.startsWith(RENDITION_PREFIX)) {
        published.set(sk.slice(RENDITION_PREFIX.length), new Map(renditionPublishes(item)));
      } else if (sk.startsWith(PIPELINE_PREFIX)) {
        const pipeline = pipelineFromItem(item);
        stats.push(`${pipeline.pipeline}:${pipeline.ingests}:${pipeline.lastIngestAt}`);
      }
    }
    return { published, signature: stats.join(',') };
  }

  /**
   * Current candidates of watched objects, consistently read: one BatchGetItem per 100
   * (object, pipeline) keys over each event's known pipelines; a Query for objects of events
   * with no pipeline known yet. Objects DynamoDB left unprocessed are absent from the result.
   */
  async pollObjects(objects: readonly PublishedObject[]): Promise<Map<PublishedObject, ObjectPoll>> {
    const results = new Map<PublishedObject, ObjectPoll>();
    const byEvent = new Map<string, PublishedObject[]>();
    for (const object of objects) byEvent.set(object.event, [...(byEvent.get(object.event) ?? []), object]);
    const keys: { object: PublishedObject; pipeline: string }[] = [];
    const queries: Promise<void>[] = [];
    const states = await Promise.all([...byEvent.keys()].map((event) => this.getEvent(event)));
    [...byEvent.values()].forEach((watched, i) => {
      const state = states[i];
      const pipelines = [...new Set([...(state?.config.pipelines ?? []), ...Object.keys(state?.pipelines ?? {})])];
      for (const object of watched) {
        if (pipelines.length === 0) {
          queries.push(
            this.queryObject(object.event, object.path, 'poll').then((found) => {
              results.set(object, { pipelines: 'all', candidates: found.candidates });
            }),
          );
        } else {
          for (const pipeline of pipelines) keys.push({ object, pipeline });
        }
      }
    });
    const batches: Promise<void>[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) batches.push(this.batchPoll(keys.slice(i, i + BATCH_GET_KEYS), results));
    await Promise.all([...queries, ...batches]);
    return results;
  }

  private async batchPoll(keys: readonly { object: PublishedObject; pipeline: string }[], results: Map<PublishedObject, ObjectPoll>): Promise<void> {
    const response = await this.call('poll', false, (abortSignal) =>
      this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.candidates]: {
              ConsistentRead: true,
              Keys: keys.map(({ object, pipeline }) => ({ [PK]: s(objectPartition(object.event, object.path)), [SK]: s(pipeline) })),
            },
          },
        }),
        { abortSignal },
      ),
    );
    const found = new Map<string, Candidate>();
    for (const item of response.Responses?.[this.candidates] ?? []) {
      const candidate = candidateFromItem(item);
      found.set(`${objectPartition(candidate.event, candidate.path)}\n${candidate.pipeline}`, candidate);
    }
    const unprocessed = new Set((response.UnprocessedKeys?.[this.candidates]?.Keys ?? []).map((key) => key[PK]!.S!));
    for (const { object, pipeline } of keys) {
      const partition = objectPartition(object.event, object.path);
      if (unprocessed.has(partition)) continue;
      const poll = results.get(object);
      const candidate = found.get(`${partition}\n${pipeline}`);
      results.set(object, {
        pipelines: [...(poll && poll.pipelines !== 'all' ? poll.pipelines : []), pipeline],
        candidates: candidate ? [...(poll?.candidates ?? []), candidate] : (poll?.candidates ?? []),
      });
    }
  }

  private async updatePipeline(event: string, info: PublishInfo, expiresAt: number) {
    const key = { [PK]: s(event), [SK]: s(`${PIPELINE_PREFIX}${info.pipeline}`) };
    const values: Record<string, AttributeValue> = {
      ':at': n(info.at),
      ':one': n(1),
      ':defective': n(info.defective ? 1 : 0),
      ':expires': n(expiresAt),
    };
    const counters = 'ADD ingests :one, defective :defective';
    const result = await this.call('recordPublish', true, async (abortSignal) => {
      if (info.number !== undefined) {
        // In-order publishing moves the edge in the same write; an older number fails the
        // condition and is counted without touching the edge.
        try {
          return await this.client.send(
            new UpdateItemCommand({
              TableName: this.events,
              Key: key,
              UpdateExpression: `SET lastIngestAt = :at, #ttl = :expires, edge = :number ${counters}`,
              ConditionExpression: 'attribute_not_exists(edge) OR edge <= :number',
              ExpressionAttributeNames: { '#ttl': TTL },
              ExpressionAttributeValues: { ...values, ':number': n(info.number) },
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          );
        } catch (error) {
          if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
        }
      }
      return this.client.send(
        new UpdateItemCommand({
          TableName: this.events,
          Key: key,
          UpdateExpression: `SET lastIngestAt = :at, #ttl = :expires ${counters}`,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      );
    });
    return pipelineFromItem(result.Attributes!);
  }

  /** Records the first publish of a number (if_not_exists: the first pipeline wins), and the padding width. */
  private async updateRendition(event: string, rendition: string, number: number, at: number, width: number, expiresAt: number) {
    const key = { [PK]: s(event), [SK]: s(`${RENDITION_PREFIX}${rendition}`) };
    const result = await this.call('recordPublish', true, (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.events,
          Key: key,
          UpdateExpression: 'SET #at = if_not_exists(#at, :at), width = if_not_exists(width, :width), #ttl = :expires',
          ExpressionAttributeNames: { '#at': `${PUBLISH_ATTRIBUTE_PREFIX}${number}`, '#ttl': TTL },
          ExpressionAttributeValues: { ':at': n(at), ':width': n(width), ':expires': n(expiresAt) },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      ),
    );
    let item = result.Attributes!;
    if (width > Number(item.width?.N ?? 0)) item = (await this.widen(key, width)) ?? item;
    const publishes = renditionPublishes(item);
    if (publishes.length >= RENDITION_TRIM_AT) {
      const names = Object.fromEntries(publishes.slice(0, -RENDITION_HISTORY).map(([number], i) => [`#o${i}`, `${PUBLISH_ATTRIBUTE_PREFIX}${number}`]));
      await this.call('recordPublish', true, (abortSignal) =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.events,
            Key: key,
            UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
            ExpressionAttributeNames: names,
          }),
          { abortSignal },
        ),
      );
    }
    return renditionFromItem(item);
  }

  /** Raises the rendition's padding width (memory semantics: the widest seen). */
  private async widen(key: Item, width: number): Promise<Item | undefined> {
    return this.call('recordPublish', true, async (abortSignal) => {
      try {
        const result = await this.client.send(
          new UpdateItemCommand({
            TableName: this.events,
            Key: key,
            UpdateExpression: 'SET width = :width',
            ConditionExpression: 'width < :width',
            ExpressionAttributeValues: { ':width': n(width) },
            ReturnValues: 'ALL_NEW',
          }),
          { abortSignal },
        );
        return result.Attributes;
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') return undefined;
        throw error;
      }
    });
  }

  private async tryPin(event: string, path: string, expected: string | undefined, next: string, epoch: number, expiresAt: number): Promise<boolean> {
    const condition =
      expected === undefined
        ? // No pin, or only one from before the last clearPins.
          'attribute_not_exists(#pk) OR epoch <> :epoch'
        : 'pipeline = :expected AND epoch = :epoch';
    return this.call('swapPin', true, async (abortSignal) => {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.candidates,
            Item: {
              [PK]: s(objectPartition(event, path)),
              [SK]: s(PIN_SORT_KEY),
              pipeline: s(next),
              epoch: n(epoch),
              [TTL]: n(expiresAt),
            },
            ConditionExpression: condition,
            ExpressionAttributeNames: expected === undefined ? { '#pk': PK } : undefined,
            ExpressionAttributeValues: { ':epoch': n(epoch), ...(expected === undefined ? {} : { ':expected': s(expected) }) },
          }),
          { abortSignal },
        );
        return true;
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    });
  }

  private async readPin(event: string, path: string): Promise<StoredPin | undefined> {
    const result = await this.call('swapPin', false, (abortSignal) =>
      this.client.send(
        new GetItemCommand({
          TableName: this.candidates,
          Key: { [PK]: s(objectPartition(event, path)), [SK]: s(PIN_SORT_KEY) },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    return result.Item ? pinFromItem(result.Item) : undefined;
  }

  private eventRecord(event: string): Promise<EventRecord> {
    return this.eventCache.get(event, async () => {
      const items = await this.queryAll('getEvent', this.events, event);
      const record = eventFromItems(event, items);
      if (record.state) this.remember(event);
      return record;
    });
  }

  private cachedObject(event: string, path: string): Promise<CachedObject> {
    return this.objectCache.get(objectPartition(event, path), () => this.queryObject(event, path, 'getObject'));
  }

  private async queryObject(event: string, path: string, operation: string): Promise<CachedObject> {
    const items = await this.queryAll(operation, this.candidates, objectPartition(event, path));
    let pin: StoredPin | undefined;
    const candidates: Candidate[] = [];
    for (const item of items) {
      if (item[SK]?.S === PIN_SORT_KEY) pin = pinFromItem(item);
      else candidates.push(candidateFromItem(item));
    }
    return pin ? { candidates, pin } : { candidates };
  }

  /** Every item of one partition (from a sort key on, when given), strongly consistent. */
  private async queryAll(operation: string, table: string, partition: string, fromSortKey?: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page: QueryCommandOutput = await this.call(operation, false, (abortSignal) =>
        this.client.send(
          new QueryCommand({
            TableName: table,
            ...(fromSortKey === undefined
              ? {
                  KeyConditionExpression: '#pk = :pk',
                  ExpressionAttributeNames: { '#pk': PK },
                  ExpressionAttributeValues: { ':pk': s(partition) },
                }
              : {
                  KeyConditionExpression: '#pk = :pk AND #sk >= :from',
                  ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
                  ExpressionAttributeValues: { ':pk': s(partition), ':from': s(fromSortKey) },
                }),
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
          { abortSignal },
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private patchEvent(event: string, update: (state: EventState) => EventState): void {
    this.eventCache.patch(event, (record) => (record.state ? { ...record, state: update(record.state) } : record));
  }

  private patchObject(event: string, path: string, update: (object: CachedObject) => CachedObject): void {
    this.objectCache.patch(objectPartition(event, path), update);
  }

  private remember(event: string): void {
    if (this.knownEvents.size >= MAX_CACHED_EVENTS) this.knownEvents.clear();
    this.knownEvents.add(event);
  }

  private call<T>(operation: string, write: boolean, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const options: CallOptions = { observer: this.options.observer, store: 'metadata', operation, write, writeFaultMs: this.writeFaultMs };
    return awsCall(options, run);
  }
}
