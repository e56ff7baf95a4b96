import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where s3rver, the local S3 of the tests and the demo, differs from S3 in ways the origin
 * depends on (an object readable whole at the ack, a read that never mixes two versions), its
 * filesystem store is patched to behave as S3 does. `local-aws.ts` applies this once, before it
 * starts a server.
 */

const require = createRequire(import.meta.url);

interface S3rverObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: Buffer | NodeJS.ReadableStream;
  readonly metadata: Record<string, string>;
}
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<unknown>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver's PUT answers before the object's file is written (it resolves when the body has been
 * read, not when the write stream has finished) and writes in place, so a GET right after the
 * ack (the origin's, or a peer region's) can read an empty or partial object. S3 is atomic and
 * durable at the ack. The local server writes each object to a side file, waits for it to be
 * flushed, writes its metadata, and only then renames it into place (an object is visible when
 * its file exists). Reads of a key being replaced: consistentReads below.
 */
function atomicPuts(): void {
  const store = (require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStore }).prototype;
  store.putObject = async function putObject(this: FilesystemStore, object: S3rverObject) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    const partial = `${objectPath}.${process.pid}-${randomUUID()}.partial`;
    await mkdir(dirname(objectPath), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, counted, createWriteStream(partial));
      const digest = md5.digest('hex');
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(partial, objectPath);
      return { size, md5: digest };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  };
}

interface S3ObjectModel {
  range?: { start: number; end: number };
}
type S3ObjectClass = (new (
  bucket: string,
  key: string,
  content: NodeJS.ReadableStream | null,
  metadata: Record<string, string | number>,
) => S3ObjectModel) & {
  readonly ALLOWED_METADATA: readonly string[];
};

/** Writes `path` whole or not at all: a reader sees the old file or the new one, never a part. */
async function writeWhole(path: string, data: string): Promise<void> {
  const partial = `${path}.${process.pid}-${randomUUID()}.partial`;
  try {
    await writeFile(partial, data);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * s3rver reads an object's size from one look at its file (a stat) and its bytes from another
 * (an open): when a PUT replaces the key between the two, the answer says one length and sends
 * the other file's bytes, which the client reads as a truncated (or overlong) body; and it
 * writes the metadata files in place, so a read in between gets half a JSON file. S3 never
 * does either. The local server opens the object once and takes its size from that open file,
 * and writes metadata whole. What remains of the replace: for a moment the new ETag may stand
 * beside the old bytes (whole and consistent with their length).
 */
function consistentReads(): void {
  const store = (require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStore }).prototype;
  const S3Object = require('s3rver/lib/models/object') as S3ObjectClass;
  store.putMetadata = async function putMetadata(this: FilesystemStore, bucket, key, metadata, md5) {
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(metadata)) {
      if (S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) kept[name] = value;
    }
    if (md5) await writeWhole(this.getResourcePath(bucket, key, 'object.md5'), md5);
    await writeWhole(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept, null, 2));
  };
  store.getObject = async function getObject(this: FilesystemStore, bucket, key, options) {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.getResourcePath(bucket, key, 'object'), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const stat = await handle.stat();
      const metadata = { ...(await this.getMetadata(bucket, key)), 'content-length': stat.size, 'last-modified': stat.mtime.toUTCString() };
      // s3rver's own range rules, on the size of the file actually opened.
      const lastByte = Math.max(0, stat.size - 1);
      const range = { start: options?.start || 0, end: Math.min(options?.end || Infinity, lastByte) };
      const ranged = options !== undefined && (options.start !== undefined || Boolean(options.end));
      if (range.start < 0 || Math.min(range.end, lastByte) < range.start) {
        await handle.close();
        const object = new S3Object(bucket, key, null, metadata);
        if (ranged) object.range = range;
        return object;
      }
      const object = new S3Object(bucket, key, handle.createReadStream({ start: range.start, end: range.end }), metadata);
      if (ranged) object.range = range;
      return object;
    } catch (error) {
      await handle.close().catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
}

let patched = false;

/** Makes every s3rver in this process write objects atomically and read them consistently (idempotent). */
export function makeS3rverBehaveAsS3(): void {
  if (patched) return;
  patched = true;
  atomicPuts();
  consistentReads();
}
