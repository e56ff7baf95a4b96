import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalS3 } from '../../scripts/local/local-aws.js';
import { startLocalS3 } from '../../scripts/local/local-aws.js';

const BUCKET = 'atomic-puts';
let directory: string;
let server: LocalS3;
let client: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'live-origin-atomic-'));
  server = await startLocalS3(directory);
  client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  client.destroy();
  await server.stop();
  await rm(directory, { recursive: true, force: true });
});

async function read(key: string): Promise<Buffer | undefined> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

describe('the local S3 server (scripts/local/local-aws.ts) is atomic at the ack, as S3 is', () => {
  it('serves the whole object right after each ack, and never a partial one while it is written', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      const key = `ev/a/seg_${i}.m4s`;
      const body = randomBytes(2 * 1024 * 1024);
      let writing = true;
      // A reader polling the key while it is being written: absent or whole, nothing between.
      const reader = (async () => {
        while (writing) {
          const got = await read(key);
          if (got !== undefined) seen.push(got.length);
          if (got !== undefined) expect(got.equals(body)).toBe(true);
        }
      })();
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      expect((await read(key))?.equals(body)).toBe(true);
      writing = false;
      await reader;
    }
    console.log(`local S3 atomic puts: 20 x 2 MiB, ${seen.length} reads during the writes saw the whole object`);
  }, 60_000);

  it('serves one whole version while a key is replaced again and again with bodies of other sizes', async () => {
    const key = 'ev/b/manifest.mpd';
    // Sizes differ by a few bytes, as a live manifest's do from one publish to the next.
    const versions = Array.from({ length: 40 }, (_, i) => Buffer.from(`<?xml version="1.0"?><MPD publish="${i}">${'x'.repeat(3_000 + (i % 7) * 37)}</MPD>`));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: versions[0] }));
    let writing = true;
    let reads = 0;
    const readers = Array.from({ length: 3 }, async () => {
      while (writing) {
        const got = await read(key);
        reads++;
        expect(got !== undefined && versions.some((version) => version.equals(got))).toBe(true);
      }
    });
    for (const version of versions.slice(1)) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: version }));
    writing = false;
    await Promise.all(readers);
    expect((await read(key))?.equals(versions.at(-1)!)).toBe(true);
    console.log(`local S3 replaced key: 39 replacements, ${reads} reads each saw one whole version`);
  }, 60_000);

  it('lists only whole objects and leaves no side file behind', async () => {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'ev/a/' }));
    expect(listed.Contents?.map((object) => object.Size)).toEqual(new Array(20).fill(2 * 1024 * 1024));
    const files = await readdir(join(directory, BUCKET, 'ev', 'a'));
    expect(files.filter((file) => file.endsWith('.partial'))).toEqual([]);
    expect((await readdir(join(directory, BUCKET, 'ev', 'b'))).filter((file) => file.endsWith('.partial'))).toEqual([]);
  });
});
