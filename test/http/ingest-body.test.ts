import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, startOrigin } from '../support/origin.js';

/** A PUT written in pieces, with a pause between them, so the body reaches the origin as several chunks. */
function putInPieces(
  origin: TestOrigin,
  path: string,
  pieces: readonly Buffer[],
  headers: http.OutgoingHttpHeaders,
): Promise<{ status: number; etag?: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${origin.url}${path}`, { method: 'PUT', headers: { ...AUTH, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, etag: res.headers.etag }));
    });
    request.on('error', reject);
    let next = 0;
    const write = (): void => {
      if (next === pieces.length) return void request.end();
      request.write(pieces[next++]);
      setTimeout(write, 5);
    };
    write();
  });
}

const md5 = (bytes: Buffer): string => `"${createHash('md5').update(bytes).digest('hex')}"`;

describe('ingest body reading', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => {
    await origin.close();
  });

  async function stored(path: string): Promise<Buffer> {
    const got = await fetch(`${origin.url}${path}`, { headers: AUTH });
    expect(got.status).toBe(200);
    return Buffer.from(await got.arrayBuffer());
  }

  it('stores a Content-Length body that arrives in several chunks exactly, with its MD5 ETag', async () => {
    const pieces = [randomBytes(70_000), randomBytes(1), randomBytes(200_000)];
    const bytes = Buffer.concat(pieces);
    const res = await putInPieces(origin, '/ingest/ev-body/a/v/seg_1.m4s', pieces, { 'content-length': bytes.length });
    expect(res).toEqual({ status: 201, etag: md5(bytes) });
    expect((await stored('/ingest/ev-body/a/v/seg_1.m4s')).equals(bytes)).toBe(true);
  });

  it('stores a chunked body (no Content-Length) exactly, with its MD5 ETag', async () => {
    const pieces = [randomBytes(10), randomBytes(100_000), randomBytes(3)];
    const bytes = Buffer.concat(pieces);
    const res = await putInPieces(origin, '/ingest/ev-body/a/v/seg_2.m4s', pieces, {});
    expect(res).toEqual({ status: 201, etag: md5(bytes) });
    expect((await stored('/ingest/ev-body/a/v/seg_2.m4s')).equals(bytes)).toBe(true);
  });

  it('stores an empty body', async () => {
    const res = await putInPieces(origin, '/ingest/ev-body/a/v/seg_3.m4s', [], { 'content-length': 0 });
    expect(res).toEqual({ status: 201, etag: md5(Buffer.alloc(0)) });
    expect((await stored('/ingest/ev-body/a/v/seg_3.m4s')).length).toBe(0);
  });

  it('stores nothing when the client goes away before the declared length arrived', async () => {
    await new Promise<void>((resolve) => {
      const request = http.request(`${origin.url}/ingest/ev-body/a/v/seg_4.m4s`, { method: 'PUT', headers: { ...AUTH, 'content-length': 100_000 } });
      request.on('error', () => resolve());
      request.write(randomBytes(50_000), () => setTimeout(() => request.destroy(), 50));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const got = await fetch(`${origin.url}/ingest/ev-body/a/v/seg_4.m4s`, { headers: AUTH });
    expect(got.status).toBe(404);
  });
});
