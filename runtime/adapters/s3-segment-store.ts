import type { GetObjectCommandOutput, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Clock } from '../ports/clock.js';
import type { SegmentKey, SegmentStore, StoredBytes } from '../ports/segment-store.js';
import { segmentKeyString } from '../ports/segment-store.js';
import type { StoreObserver } from '../ports/store-observer.js';
import type { CallOptions } from './aws-retry.js';
import { awsCall, errorName, WRITE_FAULT_MS } from './aws-retry.js';
import { systemClock } from './system-clock.js';

/** One region's segment bucket and the client that reaches it. */
export interface BucketLocation {
  readonly region: string;
  readonly bucket: string;
  readonly client: S3Client;
}

/** Object metadata key (`x-amz-meta-etag`) holding the entity tag given to put. */
const ETAG_METADATA = 'etag';

/** Told of every durable put, to copy the bytes to the peer regions. */
export interface PutListener {
  afterPut(key: SegmentKey, body: Buffer, meta: { readonly contentType: string; readonly etag: string }): void;
}

export interface S3SegmentStoreOptions {
  readonly local: BucketLocation;
  /** Buckets of the other regions, read in order when the local bucket misses. */
  readonly peers?: readonly BucketLocation[];
  /** Scheduled after each durable local write (the peer replicator). */
  readonly afterPut?: PutListener;
  readonly observer: StoreObserver;
  /** @default 500 */
  readonly writeFaultMs?: number;
  /** Times each call's budget. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Segment bytes in S3 under `{event}/{pipeline}/{path}`, so a URL names its object with no
 * lookup. Content type and entity tag travel as object metadata.
 */
export class S3SegmentStore implements SegmentStore {
  private readonly peers: readonly BucketLocation[];
  private readonly writeFaultMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: S3SegmentStoreOptions) {
    this.peers = options.peers ?? [];
    this.writeFaultMs = options.writeFaultMs ?? WRITE_FAULT_MS;
    this.clock = options.clock ?? systemClock;
  }

  async put(key: SegmentKey, body: Buffer, meta: { readonly contentType: string; readonly etag: string }): Promise<void> {
    const { client, bucket } = this.options.local;
    await awsCall(this.call('put', true, body.length), (abortSignal) =>
      client.send(new PutObjectCommand(putObjectInput(bucket, key, body, meta)), { abortSignal }),
    );
    this.options.afterPut?.afterPut(key, body, meta);
  }

  async get(key: SegmentKey, expectEtag?: string): Promise<StoredBytes | undefined> {
    const found = await awsCall(this.call('get', false), (signal) => readObject(this.options.local, key, signal));
    if (found || this.peers.length === 0) return found;
    for (const peer of this.peers) {
      let copy: StoredBytes | undefined;
      try {
        copy = await awsCall(this.call('get-peer', false), (signal) => readObject(peer, key, signal));
      } catch {
        continue;
      }
      // A peer may still hold an older version; only the one the metadata names will do.
      if (copy && (expectEtag === undefined || copy.etag === expectEtag)) return copy;
    }
    return undefined;
  }

  async delete(key: SegmentKey): Promise<void> {
    const { client, bucket } = this.options.local;
    await awsCall(this.call('delete', true), (abortSignal) =>
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: segmentKeyString(key) }), { abortSignal }),
    );
  }

  async ping(): Promise<void> {
    const { client, bucket } = this.options.local;
    await awsCall(this.call('ping', false), (abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }));
  }

  async close(): Promise<void> {}

  private call(operation: string, write: boolean, bytes?: number): CallOptions {
    return { observer: this.options.observer, clock: this.clock, store: 'segments', operation, write, writeFaultMs: this.writeFaultMs, bytes };
  }
}

/** The object's bytes, or undefined if the bucket has no such key. */
async function readObject(location: BucketLocation, key: SegmentKey, signal: AbortSignal): Promise<StoredBytes | undefined> {
  let response: GetObjectCommandOutput;
  try {
    response = await location.client.send(new GetObjectCommand({ Bucket: location.bucket, Key: segmentKeyString(key) }), {
      abortSignal: signal,
    });
  } catch (error) {
    if (errorName(error) === 'NoSuchKey') return undefined;
    throw error;
  }
  const stream = response.Body;
  if (!stream) return undefined;
  const onAbort = (): void => (stream as { destroy?: (error?: Error) => void }).destroy?.(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const bytes = await stream.transformToByteArray();
    return {
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      contentType: response.ContentType ?? 'application/octet-stream',
      etag: response.Metadata?.[ETAG_METADATA] ?? response.ETag ?? '',
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The PutObject request of one object, for the local bucket and the peer copies alike. */
export function putObjectInput(
  bucket: string,
  key: SegmentKey,
  body: Buffer,
  meta: { readonly contentType: string; readonly etag: string },
): PutObjectCommandInput {
  return {
    Bucket: bucket,
    Key: segmentKeyString(key),
    Body: body,
    ContentLength: body.length,
    ContentType: meta.contentType,
    ContentMD5: contentMd5(meta.etag),
    Metadata: { [ETAG_METADATA]: meta.etag },
  };
}

/** `Content-MD5` from an MD5 entity tag, so S3 verifies the bytes it stores; other tags send none. */
function contentMd5(etag: string): string | undefined {
  const hex = /^"([0-9a-f]{32})"$/i.exec(etag)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('base64');
}
