import { BatchGetItemCommand, DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY as PK, TABLE_SORT_KEY as SK } from '../aws-contract.js';
import type { Candidate, EventState, InProgressCandidate } from '../domain/model.js';
import type { ArrivingElsewhere, PublishedObject } from '../ports/publish-feed.js';
import { unlessConditionFails } from './dynamodb-condition.js';
import {
  candidateFromItem,
  objectPartition,
  PIPELINE_PREFIX,
  pipelineFromItem,
  RENDITION_PREFIX,
  renditionPublishes,
  STREAM_PREFIX,
  s,
  streamFromItem,
  streamItem,
  streamKey,
} from './dynamodb-items.js';
import type { MetadataCache } from './dynamodb-metadata-cache.js';
import type { EventPoll, ObjectPoll, WatchedObjectSource } from './dynamodb-publish-feed.js';
import type { DynamoDbTables } from './dynamodb-tables.js';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/**
 * The metadata tables as the publish feed reads them: per-event polls of the publish records,
 * batched reads of watched objects, and the store's cache (the baseline a watch compares with,
 * and the entry dropped before listeners hear of a remote publish).
 */
export class DynamoDbPollSource implements WatchedObjectSource {
  constructor(
    private readonly tables: DynamoDbTables,
    private readonly cache: MetadataCache,
    /** The store's (cached) event read: which pipelines an event's objects may have. */
    private readonly getEvent: (event: string) => Promise<EventState | undefined>,
  ) {}

  lastSeen(object: PublishedObject): readonly Candidate[] | undefined {
    return this.cache.lastSeenObject(object.event, object.path)?.candidates;
  }

  /** Drops the cached object, so the next getObject reads what another instance published. */
  invalidateObject(object: PublishedObject): void {
    this.cache.invalidateObject(object.event, object.path);
  }

  /**
   * The event's publish records, consistently read in one Query (the feed's per-event poll):
   * the pipeline stats items, which every ingest updates before its ack, and the rendition
   * items, which record each number's first publish, and the stream items of PUTs being
   * received. Sort keys from `pipeline#` on hold exactly these three families, so config,
   * notifications and masks are not read.
   */
  async pollEvent(event: string): Promise<EventPoll> {
    const items = await this.tables.queryAll('poll', this.tables.events, event, PIPELINE_PREFIX);
    const published = new Map<string, Map<number, number>>();
    const stats: string[] = [];
    const streams: ArrivingElsewhere[] = [];
    for (const item of items) {
      const sk = item[SK]?.S ?? '';
      if (sk.startsWith(STREAM_PREFIX)) {
        streams.push(streamFromItem(event, item));
      } else if (sk.startsWith(RENDITION_PREFIX)) {
        published.set(sk.slice(RENDITION_PREFIX.length), new Map(renditionPublishes(item)));
      } else if (sk.startsWith(PIPELINE_PREFIX)) {
        const pipeline = pipelineFromItem(item);
        stats.push(`${pipeline.pipeline}:${pipeline.ingests}:${pipeline.lastIngestAt}`);
      }
    }
    return { published, signature: stats.join(','), streams };
  }

  /** Records a PUT this instance is receiving, so other instances can relay it (one write, before its bytes matter to them). */
  async putStream(candidate: InProgressCandidate, relay: string): Promise<void> {
    await this.tables.call('putStream', true, (abortSignal) =>
      this.tables.client.send(new PutItemCommand({ TableName: this.tables.events, Item: streamItem(candidate, relay) }), { abortSignal }),
    );
  }

  /** Withdraws it once the PUT ended, only if it is still this PUT's record (a newer PUT of the same path keeps its own). */
  async deleteStream(candidate: InProgressCandidate, relay: string): Promise<void> {
    await this.tables.call('deleteStream', true, (abortSignal) =>
      unlessConditionFails(() =>
        this.tables.client.send(
          new DeleteItemCommand({
            TableName: this.tables.events,
            Key: streamKey(candidate),
            ConditionExpression: 'relay = :relay',
            ExpressionAttributeValues: { ':relay': s(relay) },
          }),
          { abortSignal },
        ),
      ),
    );
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
            this.tables.readObject(object.event, object.path, 'poll').then((found) => {
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
    const table = this.tables.candidates;
    const response = await this.tables.call('poll', false, (abortSignal) =>
      this.tables.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              ConsistentRead: true,
              Keys: keys.map(({ object, pipeline }) => ({ [PK]: s(objectPartition(object.event, object.path)), [SK]: s(pipeline) })),
            },
          },
        }),
        { abortSignal },
      ),
    );
    const found = new Map<string, Candidate>();
    for (const item of response.Responses?.[table] ?? []) {
      const candidate = candidateFromItem(item);
      found.set(`${objectPartition(candidate.event, candidate.path)}\n${candidate.pipeline}`, candidate);
    }
    const unprocessed = new Set((response.UnprocessedKeys?.[table]?.Keys ?? []).map((key) => key[PK]!.S!));
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
}
