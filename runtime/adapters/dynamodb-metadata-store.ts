// Over 400 lines on purpose: the whole MetadataStore port on one item layout, each write's
// condition beside the attributes it sets (cache, poll source and condition catch are already their
// own modules).
import { randomBytes } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY as PK, TABLE_SORT_KEY as SK, TABLE_TTL_ATTRIBUTE as TTL } from '../aws-contract.js';
import type { Candidate, EventConfig, EventState, Mask, RenditionDeclaration } from '../domain/model.js';
import { RENDITION_HISTORY } from '../domain/model.js';
import { mergeNotifications } from '../domain/notifications.js';
import { QUALITY_HISTORY } from '../domain/quality.js';
import { keepRecentPublishes } from '../domain/timing.js';
import type { Clock } from '../ports/clock.js';
import type { MetadataStore, ObjectReadOptions, ObjectRecord, PublishInfo } from '../ports/metadata-store.js';
import type { StoreObserver } from '../ports/store-observer.js';
import { WRITE_FAULT_MS } from './aws-retry.js';
import { unlessConditionFails } from './dynamodb-condition.js';
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
  qualityScores,
  RENDITION_PREFIX,
  renditionFromItem,
  renditionPublishes,
  s,
} from './dynamodb-items.js';
import { MetadataCache } from './dynamodb-metadata-cache.js';
import { DynamoDbPollSource } from './dynamodb-poll-source.js';
import type { WatchedObjectSource } from './dynamodb-publish-feed.js';
import type { StoredObject } from './dynamodb-tables.js';
import { DynamoDbTables } from './dynamodb-tables.js';
import { systemClock } from './system-clock.js';

/**
 * How long a read may be served from this instance's cache. The contract allows one second
 * of staleness across instances; half of it leaves room for the read itself.
 */
export const METADATA_CACHE_MS = 500;
/** A rendition item is trimmed back to the history once it holds twice as many numbers. */
const RENDITION_TRIM_AT = 2 * RENDITION_HISTORY;
/** A pipeline item's recent scores, likewise. */
const QUALITY_TRIM_AT = 2 * QUALITY_HISTORY;

export interface DynamoDbMetadataStoreOptions {
  readonly client: DynamoDBClient;
  /** LIVE_ORIGIN_TABLE_PREFIX; tables are `${prefix}candidates` and `${prefix}events`. */
  readonly tablePrefix: string;
  readonly observer: StoreObserver;
  /** @default 500 */
  readonly writeFaultMs?: number;
  /** @default 500 (METADATA_CACHE_MS) */
  readonly cacheMs?: number;
  /** Ages the cache, times each call's budget, and dates a pin's expiry. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Metadata in two DynamoDB tables (layout in dynamodb-items.ts). Reads are strongly consistent
 * and cached for at most `cacheMs` (dynamodb-metadata-cache.ts); this instance's own writes
 * patch or drop its cache entries, so it reads them back at once. Pins are compare-and-set with
 * a condition expression. The publish feed reads the same tables and cache through `feedSource`.
 */
export class DynamoDbMetadataStore implements MetadataStore {
  /** What the DynamoDB publish feed polls (dynamodb-poll-source.ts). */
  readonly feedSource: WatchedObjectSource;
  private readonly tables: DynamoDbTables;
  private readonly cache: MetadataCache;
  private readonly clock: Clock;

  constructor(options: DynamoDbMetadataStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.tables = new DynamoDbTables({
      client: options.client,
      tablePrefix: options.tablePrefix,
      observer: options.observer,
      writeFaultMs: options.writeFaultMs ?? WRITE_FAULT_MS,
      clock: this.clock,
    });
    this.cache = new MetadataCache(options.cacheMs ?? METADATA_CACHE_MS, this.clock);
    this.feedSource = new DynamoDbPollSource(this.tables, this.cache, (event) => this.getEvent(event));
  }

  async getEvent(event: string): Promise<EventState | undefined> {
    return (await this.eventRecord(event)).state;
  }

  async ensureEvent(event: string, at: number): Promise<boolean> {
    if (this.cache.knowsEvent(event)) return false;
    const put = await this.tables.call('ensureEvent', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new PutItemCommand({
            TableName: this.tables.events,
            Item: { [PK]: s(event), [SK]: s(CONFIG_SORT_KEY), createdAt: n(at), config: s('{}'), pinEpoch: n(0) },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
          { abortSignal },
        ),
      ),
    );
    const created = put !== undefined;
    this.cache.remember(event);
    // Created here, or by another instance since this one cached "unknown event".
    if (created || !this.cache.holdsEventState(event)) this.cache.invalidateEvent(event);
    return created;
  }

  async putEventConfig(event: string, config: EventConfig, at: number): Promise<boolean> {
    const old = await this.tables.call('putEventConfig', true, (abortSignal) =>
      this.tables.client.send(
        new UpdateItemCommand({
          TableName: this.tables.events,
          Key: { [PK]: s(event), [SK]: s(CONFIG_SORT_KEY) },
          UpdateExpression: 'SET config = :config, createdAt = if_not_exists(createdAt, :at), pinEpoch = if_not_exists(pinEpoch, :zero)',
          ExpressionAttributeValues: { ':config': s(JSON.stringify(config)), ':at': n(at), ':zero': n(0) },
          ReturnValues: 'UPDATED_OLD',
        }),
        { abortSignal },
      ),
    );
    this.cache.remember(event);
    this.cache.invalidateEvent(event);
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
    const result = await this.tables.call('mergeNotifications', true, (abortSignal) =>
      this.tables.client.send(
        new UpdateItemCommand({
          TableName: this.tables.events,
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
    this.cache.patchEvent(event, (state) => ({ ...state, notifications: merged }));
    return merged;
  }

  async addMask(event: string, mask: Mask): Promise<void> {
    const config = (await this.getEvent(event))?.config;
    const item = maskItem(event, mask, randomBytes(6).toString('hex'), candidateExpiry(mask.createdAt, config));
    await this.tables.call('addMask', true, (abortSignal) =>
      this.tables.client.send(new PutItemCommand({ TableName: this.tables.events, Item: item }), { abortSignal }),
    );
    this.cache.patchEvent(event, (state) => ({ ...state, masks: [...state.masks, mask].sort((a, b) => a.createdAt - b.createdAt) }));
  }

  async recordPublish(event: string, info: PublishInfo): Promise<void> {
    const expiresAt = Math.floor(info.at / 1000) + EVENT_ITEM_RETENTION_S;
    const [pipeline, rendition] = await Promise.all([
      this.updatePipeline(event, info, expiresAt),
      info.rendition !== undefined && info.number !== undefined
        ? this.updateRendition(event, info.rendition, info.number, info.at, info.width ?? 0, expiresAt)
        : undefined,
    ]);
    this.cache.patchEvent(event, (state) => ({
      ...state,
      pipelines: { ...state.pipelines, [pipeline.pipeline]: pipeline },
      renditions: rendition ? { ...state.renditions, [rendition.rendition]: rendition } : state.renditions,
    }));
  }

  async recordDeclared(event: string, declarations: readonly RenditionDeclaration[], at: number): Promise<void> {
    const expiresAt = Math.floor(at / 1000) + EVENT_ITEM_RETENTION_S;
    const renditions = await Promise.all(declarations.map((declaration) => this.declareRendition(event, declaration, expiresAt)));
    this.cache.patchEvent(event, (state) => ({
      ...state,
      renditions: { ...state.renditions, ...Object.fromEntries(renditions.map((rendition) => [rendition.rendition, rendition])) },
    }));
  }

  async getObject(event: string, path: string, options?: ObjectReadOptions): Promise<ObjectRecord> {
    // A fresh read replaces the cached entry, so the readers after it see what it saw.
    if (options?.fresh) this.cache.invalidateObject(event, path);
    const [record, object] = await Promise.all([this.eventRecord(event), this.cachedObject(event, path)]);
    const pinned = object.pin && object.pin.epoch === record.pinEpoch ? object.pin.pipeline : undefined;
    return pinned === undefined ? { candidates: object.candidates } : { candidates: object.candidates, pinned };
  }

  async putCandidate(candidate: Candidate): Promise<Candidate | undefined> {
    const config = (await this.getEvent(candidate.event))?.config;
    const item = candidateItem(candidate, candidateExpiry(candidate.publishedAt, config));
    const result = await this.tables.call('putCandidate', true, (abortSignal) =>
      this.tables.client.send(new PutItemCommand({ TableName: this.tables.candidates, Item: item, ReturnValues: 'ALL_OLD' }), { abortSignal }),
    );
    this.cache.patchObject(candidate.event, candidate.path, (object) => ({
      ...object,
      candidates: [...object.candidates.filter((c) => c.pipeline !== candidate.pipeline), candidate],
    }));
    return result.Attributes ? candidateFromItem(result.Attributes) : undefined;
  }

  setDefects(event: string, pipeline: string, path: string, defects: readonly string[]): Promise<Candidate | undefined> {
    return this.setCandidateAttribute('setDefects', event, pipeline, path, 'defects', { L: defects.map(s) });
  }

  setQuality(event: string, pipeline: string, path: string, quality: number): Promise<Candidate | undefined> {
    return this.setCandidateAttribute('setQuality', event, pipeline, path, 'quality', n(quality));
  }

  /** Sets one attribute of a candidate that exists (undefined when it does not) and patches the cached object with the result. */
  private async setCandidateAttribute(
    operation: string,
    event: string,
    pipeline: string,
    path: string,
    attribute: string,
    value: AttributeValue,
  ): Promise<Candidate | undefined> {
    const result = await this.tables.call(operation, true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new UpdateItemCommand({
            TableName: this.tables.candidates,
            Key: { [PK]: s(objectPartition(event, path)), [SK]: s(pipeline) },
            UpdateExpression: 'SET #attribute = :value',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK, '#attribute': attribute },
            ExpressionAttributeValues: { ':value': value },
            ReturnValues: 'ALL_NEW',
          }),
          { abortSignal },
        ),
      ),
    );
    const updated = result && candidateFromItem(result.Attributes!);
    if (updated) {
      this.cache.patchObject(event, path, (object) => ({
        ...object,
        candidates: object.candidates.map((c) => (c.pipeline === pipeline ? updated : c)),
      }));
    }
    return updated;
  }

  async deleteCandidate(event: string, pipeline: string, path: string): Promise<Candidate | undefined> {
    const result = await this.tables.call('deleteCandidate', true, (abortSignal) =>
      this.tables.client.send(
        new DeleteItemCommand({
          TableName: this.tables.candidates,
          Key: { [PK]: s(objectPartition(event, path)), [SK]: s(pipeline) },
          ReturnValues: 'ALL_OLD',
        }),
        { abortSignal },
      ),
    );
    this.cache.patchObject(event, path, (object) => ({ ...object, candidates: object.candidates.filter((c) => c.pipeline !== pipeline) }));
    return result.Attributes ? candidateFromItem(result.Attributes) : undefined;
  }

  async swapPin(event: string, path: string, expected: string | undefined, next: string): Promise<string> {
    const { pinEpoch, state } = await this.eventRecord(event);
    const expiresAt = candidateExpiry(this.clock.now(), state?.config);
    let want = expected;
    // Two rounds at most: a failed swap whose pin has meanwhile been cleared becomes a first pin.
    for (let round = 0; round < 2; round++) {
      if (await this.tryPin(event, path, want, next, pinEpoch, expiresAt)) {
        this.cache.patchObject(event, path, (object) => ({ ...object, pin: { pipeline: next, epoch: pinEpoch } }));
        return next;
      }
      const current = await this.readPin(event, path);
      if (current && current.epoch === pinEpoch) {
        // Another instance pinned first, maybe a candidate this instance has not seen yet: a
        // cached object patched with only the pin would pick from stale candidates and swap
        // the pin away again (instances serving different bytes). Read the object afresh.
        this.cache.invalidateObject(event, path);
        return current.pipeline;
      }
      want = undefined;
    }
    throw new Error(`pin of ${event}/${path} keeps changing`);
  }

  async dropPin(event: string, path: string, expected: string): Promise<void> {
    const { pinEpoch } = await this.eventRecord(event);
    // A failed condition: another pin is in force (or none), nothing of ours to drop.
    await this.tables.call('dropPin', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new DeleteItemCommand({
            TableName: this.tables.candidates,
            Key: { [PK]: s(objectPartition(event, path)), [SK]: s(PIN_SORT_KEY) },
            ConditionExpression: 'pipeline = :expected AND epoch = :epoch',
            ExpressionAttributeValues: { ':expected': s(expected), ':epoch': n(pinEpoch) },
          }),
          { abortSignal },
        ),
      ),
    );
    this.cache.patchObject(event, path, (object) => (object.pin?.pipeline === expected ? { ...object, pin: undefined } : object));
  }

  async clearPins(event: string): Promise<void> {
    // A failed condition: no such event, so it has no pins in force.
    await this.tables.call('clearPins', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new UpdateItemCommand({
            TableName: this.tables.events,
            Key: { [PK]: s(event), [SK]: s(CONFIG_SORT_KEY) },
            UpdateExpression: 'ADD pinEpoch :one',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':one': n(1) },
          }),
          { abortSignal },
        ),
      ),
    );
    this.cache.invalidateEvent(event);
  }

  async ping(): Promise<void> {
    await this.tables.call('ping', false, (abortSignal) =>
      this.tables.client.send(new GetItemCommand({ TableName: this.tables.candidates, Key: { [PK]: s('#ping'), [SK]: s('#ping') } }), { abortSignal }),
    );
  }

  async close(): Promise<void> {
    this.cache.clear();
  }

  private async updatePipeline(event: string, info: PublishInfo, expiresAt: number) {
    const key = { [PK]: s(event), [SK]: s(`${PIPELINE_PREFIX}${info.pipeline}`) };
    const values: Record<string, AttributeValue> = {
      ':at': n(info.at),
      ':one': n(1),
      ':defective': n(info.defective ? 1 : 0),
      ':expires': n(expiresAt),
    };
    // Appended in the same write; concurrent publishes each append theirs (none is lost).
    let appendScore = '';
    if (info.quality !== undefined) {
      appendScore = ', recentQuality = list_append(if_not_exists(recentQuality, :noScores), :score)';
      values[':noScores'] = { L: [] };
      values[':score'] = { L: [n(info.quality)] };
    }
    const counters = 'ADD ingests :one, defective :defective';
    const result = await this.tables.call('recordPublish', true, async (abortSignal) => {
      if (info.number !== undefined) {
        // In-order publishing moves the edge in the same write; an older number fails the
        // condition and is counted without touching the edge.
        const number = info.number;
        const moved = await unlessConditionFails(() =>
          this.tables.client.send(
            new UpdateItemCommand({
              TableName: this.tables.events,
              Key: key,
              UpdateExpression: `SET lastIngestAt = :at, #ttl = :expires, edge = :number${appendScore} ${counters}`,
              ConditionExpression: 'attribute_not_exists(edge) OR edge <= :number',
              ExpressionAttributeNames: { '#ttl': TTL },
              ExpressionAttributeValues: { ...values, ':number': n(number) },
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          ),
        );
        if (moved) return moved;
      }
      return this.tables.client.send(
        new UpdateItemCommand({
          TableName: this.tables.events,
          Key: key,
          UpdateExpression: `SET lastIngestAt = :at, #ttl = :expires${appendScore} ${counters}`,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      );
    });
    const item = result.Attributes!;
    const scores = qualityScores(item);
    if (scores.length >= QUALITY_TRIM_AT) await this.trimScores(key, scores);
    return pipelineFromItem(item);
  }

  /**
   * Cuts a pipeline item's scores back to the newest QUALITY_HISTORY of `scores` (what it held
   * after this publish), only if it still holds that many: a publish appended in between keeps
   * its score, and the next publish trims.
   */
  private async trimScores(key: Item, scores: readonly number[]): Promise<void> {
    await this.tables.call('recordPublish', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new UpdateItemCommand({
            TableName: this.tables.events,
            Key: key,
            UpdateExpression: 'SET recentQuality = :newest',
            ConditionExpression: 'size(recentQuality) = :held',
            ExpressionAttributeValues: { ':newest': { L: scores.slice(-QUALITY_HISTORY).map(n) }, ':held': n(scores.length) },
          }),
          { abortSignal },
        ),
      ),
    );
  }

  /** Records the first publish of a number (if_not_exists: the first pipeline wins), and the padding width. */
  private async updateRendition(event: string, rendition: string, number: number, at: number, width: number, expiresAt: number) {
    const key = { [PK]: s(event), [SK]: s(`${RENDITION_PREFIX}${rendition}`) };
    const result = await this.tables.call('recordPublish', true, (abortSignal) =>
      this.tables.client.send(
        new UpdateItemCommand({
          TableName: this.tables.events,
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
      // The oldest first publishes go (by time: a restarted packager's lower numbers stay).
      const kept = new Set(keepRecentPublishes(publishes).map(([number]) => number));
      const dropped = publishes.filter(([number]) => !kept.has(number));
      const names = Object.fromEntries(dropped.map(([number], i) => [`#o${i}`, `${PUBLISH_ATTRIBUTE_PREFIX}${number}`]));
      await this.tables.call('recordPublish', true, (abortSignal) =>
        this.tables.client.send(
          new UpdateItemCommand({
            TableName: this.tables.events,
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

  /** One rendition's declaration, in its rendition item (created if no number was published yet). */
  private async declareRendition(event: string, declaration: RenditionDeclaration, expiresAt: number) {
    const declared = declaration.declaredMs !== undefined;
    const result = await this.tables.call('recordDeclared', true, (abortSignal) =>
      this.tables.client.send(
        new UpdateItemCommand({
          TableName: this.tables.events,
          Key: { [PK]: s(event), [SK]: s(`${RENDITION_PREFIX}${declaration.rendition}`) },
          UpdateExpression: `SET playlist = :playlist, #ttl = :expires${declared ? ', declaredMs = :declared' : ' REMOVE declaredMs'}`,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: {
            ':playlist': s(declaration.playlist),
            ':expires': n(expiresAt),
            ...(declared ? { ':declared': n(declaration.declaredMs!) } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      ),
    );
    return renditionFromItem(result.Attributes!);
  }

  /** Raises the rendition's padding width (memory semantics: the widest seen). */
  private async widen(key: Item, width: number): Promise<Item | undefined> {
    const result = await this.tables.call('recordPublish', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new UpdateItemCommand({
            TableName: this.tables.events,
            Key: key,
            UpdateExpression: 'SET width = :width',
            ConditionExpression: 'width < :width',
            ExpressionAttributeValues: { ':width': n(width) },
            ReturnValues: 'ALL_NEW',
          }),
          { abortSignal },
        ),
      ),
    );
    return result?.Attributes;
  }

  private async tryPin(event: string, path: string, expected: string | undefined, next: string, epoch: number, expiresAt: number): Promise<boolean> {
    const condition =
      expected === undefined
        ? // No pin, or only one from before the last clearPins.
          'attribute_not_exists(#pk) OR epoch <> :epoch'
        : 'pipeline = :expected AND epoch = :epoch';
    const put = await this.tables.call('swapPin', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new PutItemCommand({
            TableName: this.tables.candidates,
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
        ),
      ),
    );
    return put !== undefined;
  }

  private async readPin(event: string, path: string): Promise<StoredPin | undefined> {
    const result = await this.tables.call('swapPin', false, (abortSignal) =>
      this.tables.client.send(
        new GetItemCommand({
          TableName: this.tables.candidates,
          Key: { [PK]: s(objectPartition(event, path)), [SK]: s(PIN_SORT_KEY) },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    return result.Item ? pinFromItem(result.Item) : undefined;
  }

  private eventRecord(event: string): Promise<EventRecord> {
    return this.cache.event(event, async () => eventFromItems(event, await this.tables.queryAll('getEvent', this.tables.events, event)));
  }

  private cachedObject(event: string, path: string): Promise<StoredObject> {
    return this.cache.object(event, path, () => this.tables.readObject(event, path, 'getObject'));
  }
}
