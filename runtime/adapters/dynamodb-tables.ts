import type { DynamoDBClient, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY as PK, TABLE_SORT_KEY as SK, TABLE_SUFFIXES } from '../aws-contract.js';
import type { Candidate } from '../domain/model.js';
import type { Clock } from '../ports/clock.js';
import type { StoreObserver } from '../ports/store-observer.js';
import type { CallOptions } from './aws-retry.js';
import { awsCall } from './aws-retry.js';
import type { Item, StoredPin } from './dynamodb-items.js';
import { candidateFromItem, objectPartition, PIN_SORT_KEY, pinFromItem, s } from './dynamodb-items.js';

/** One object's partition of the candidates table: its candidates and its pin, if any. */
export interface StoredObject {
  readonly candidates: readonly Candidate[];
  readonly pin?: StoredPin;
}

export interface DynamoDbTablesOptions {
  readonly client: DynamoDBClient;
  /** Tables are `${prefix}candidates` and `${prefix}events`. */
  readonly tablePrefix: string;
  readonly observer: StoreObserver;
  readonly writeFaultMs: number;
  /** Times each call's budget. */
  readonly clock: Clock;
}

/**
 * The two metadata tables as the store and the feed's poll source both reach them: their names,
 * every call under the store budget with its latency and faults reported, and the strongly
 * consistent partition reads both need.
 */
export class DynamoDbTables {
  readonly client: DynamoDBClient;
  readonly candidates: string;
  readonly events: string;

  constructor(private readonly options: DynamoDbTablesOptions) {
    this.client = options.client;
    this.candidates = `${options.tablePrefix}${TABLE_SUFFIXES.candidates}`;
    this.events = `${options.tablePrefix}${TABLE_SUFFIXES.events}`;
  }

  /** One metadata call under the budget (aws-retry.ts); writes are also checked against the slow-write threshold. */
  call<T>(operation: string, write: boolean, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { observer, writeFaultMs, clock } = this.options;
    const options: CallOptions = { observer, clock, store: 'metadata', operation, write, writeFaultMs };
    return awsCall(options, run);
  }

  /** An object's candidates and pin, in one consistent Query of its partition. */
  async readObject(event: string, path: string, operation: string): Promise<StoredObject> {
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
  async queryAll(operation: string, table: string, partition: string, fromSortKey?: string): Promise<Item[]> {
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
}
