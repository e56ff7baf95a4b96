import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalDynamoDb } from '../../scripts/local/local-aws.js';
import { LOCAL_CREDENTIALS, startLocalDynamoDb } from '../../scripts/local/local-aws.js';

/**
 * The local DynamoDB server (dynalite) stops and starts again under traffic without an error
 * escaping into the process that hosts it: dynalite closed its LevelDB under requests it was
 * still working on and threw the failure ("Database is closed", "Iterator is not open") out of
 * its request handler, and threw a request's "aborted" when a client left mid-body. Vitest
 * fails a whole run on such an error even when every test passes.
 */

const TABLE = 'local-dynamodb-test';
const WORKERS = 8;
const STOPS = 8;
const ACKS_BETWEEN_STOPS = 16;

let directory: string;
let server: LocalDynamoDb;
let client: DynamoDBClient;
const escaped: Error[] = [];
const record = (error: Error) => escaped.push(error);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'live-origin-dynamodb-'));
  server = await startLocalDynamoDb(directory);
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: server.endpoint,
    // Every failure shows: a retry would hide a request cut at a stop.
    maxAttempts: 1,
    credentials: { accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
  });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await server?.stop();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
});

afterEach(() => {
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
});

/** dynalite checks that a request is signed, not the signature. */
const HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  'x-amz-date': '20250101T000000Z',
};

const key = (worker: number, n: number) => ({ pk: { S: `w${worker}` }, sk: { S: `item-${String(n).padStart(5, '0')}` } });

async function readBack(item: ReturnType<typeof key>): Promise<boolean> {
  const got = await client.send(new GetItemCommand({ TableName: TABLE, Key: item, ConsistentRead: true }));
  return got.Item !== undefined;
}

describe('the local DynamoDB server (scripts/local/local-aws.ts) stops cleanly under traffic', () => {
  it('stops while requests are being worked on with nothing escaping, and keeps every acknowledged write', async () => {
    const acked: ReturnType<typeof key>[] = [];
    let failed = 0;
    let running = true;
    // Each worker writes an item and queries its partition (a read that iterates), again and again.
    const workers = Array.from({ length: WORKERS }, async (_, worker) => {
      for (let n = 0; running; n++) {
        try {
          await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key(worker, n), body: { S: 'x'.repeat(200) } } }));
          acked.push(key(worker, n));
          await client.send(
            new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: `w${worker}` } } }),
          );
        } catch {
          failed++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    });
    for (let stop = 0; stop < STOPS; stop++) {
      // Stop once the server has taken a batch of writes since it last started: in the middle of traffic.
      const target = acked.length + ACKS_BETWEEN_STOPS;
      while (acked.length < target) await new Promise((resolve) => setImmediate(resolve));
      await server.stop();
      await server.start();
    }
    running = false;
    await Promise.all(workers);
    const missing: string[] = [];
    for (const item of acked) if (!(await readBack(item))) missing.push(`${item.pk.S}/${item.sk.S}`);
    console.log(
      `local DynamoDB: ${STOPS} stops under ${WORKERS} workers: ${acked.length} writes acknowledged, ${failed} requests failed at a stop, ${missing.length} acknowledged writes missing after`,
    );
    expect(escaped.map((error) => error.message)).toEqual([]);
    expect(missing).toEqual([]);
    expect(failed).toBeGreaterThan(0);
  }, 60_000);

  it('ends a request whose client leaves in the middle of its body, and keeps serving', async () => {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: key(99, 0) }));
    const endpoint = new URL(server.endpoint);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(endpoint.port), endpoint.hostname, () => {
        const head = Object.entries({ ...HEADERS, 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-length': '200', host: endpoint.host })
          .map(([name, value]) => `${name}: ${value}`)
          .join('\r\n');
        socket.write(`POST / HTTP/1.1\r\n${head}\r\n\r\n{"TableName":"${TABLE}",`, () => {
          socket.destroy();
          resolve();
        });
      });
      socket.on('error', reject);
    });
    // A whole request afterwards is answered; stopping waits for the abandoned one to end.
    expect(await readBack(key(99, 0))).toBe(true);
    await server.stop();
    await server.start();
    expect(escaped.map((error) => error.message)).toEqual([]);
  });
});
