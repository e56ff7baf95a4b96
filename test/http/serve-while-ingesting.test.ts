import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import type { Stores } from '../../runtime/ports/stores.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, put, startOrigin, startPurgeReceiver } from '../support/origin.js';
import { openGet, openPut } from '../support/streaming.js';

/**
 * Contract v3, "serving while ingesting", over real sockets: a PUT is visible to delivery from
 * its first byte, every reader gets the bytes so far at once and then each chunk as it arrives,
 * the answer ends only once the PUT is acknowledged, and a PUT that fails before its ack is cut
 * from every reader and never becomes visible.
 */

/** Upper bound for a chunk written by the packager to reach a reader (loopback, busy 2-core host). */
const RELAY_BOUND_MS = 300;

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

/** An event whose segment 0 is the next one: a GET for it is held until published. */
async function liveEvent(event: string, extra: Record<string, unknown> = {}): Promise<void> {
  const response = await configure(origin, event, {
    pipelines: ['a', 'b'],
    segmentDurationMs: 2_000,
    availabilityStartTime: new Date(Date.now()).toISOString(),
    startNumber: 0,
    ...extra,
  });
  expect(response.ok).toBe(true);
}

/** Waits until the origin has received `bytes` of the newest PUT of the object (and `streams` PUTs of it are arriving). */
async function arrived(target: TestOrigin, event: string, path: string, bytes: number, streams = 1): Promise<void> {
  await eventually(() => {
    const current = target.app.origin.streams.of(event, path);
    expect(current.length).toBe(streams);
    expect(current.at(-1)!.size).toBeGreaterThanOrEqual(bytes);
  });
}

/** Byte equality without a deep element-by-element comparison (slow on large buffers). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect({ length: actual.length, md5: md5(actual) }).toEqual({ length: expected.length, md5: md5(expected) });
}

const md5 = (bytes: Buffer) => `"${createHash('md5').update(bytes).digest('hex')}"`;

describe('a held GET streams a chunked PUT from its first byte', () => {
  it('answers 200 at the first chunk, relays each chunk as it is written, and ends only after the ack', async () => {
    await liveEvent('swi-held');
    const reader = openGet(origin.url, 'swi-held/v/seg_0.m4s');
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    const writer = openPut(origin.url, 'swi-held/a/v/seg_0.m4s');
    const parts = [randomBytes(1_000), randomBytes(20_000), randomBytes(300)];
    let expected = 0;
    for (const part of parts) {
      const writtenAt = performance.now();
      await writer.write(part);
      expected += part.length;
      await reader.received(expected);
      const arrivedAt = reader.chunks.at(-1)!.at;
      // Both sides: nothing before it was written, and no later than the bound after.
      expect(reader.body().length).toBe(expected);
      expect(arrivedAt - writtenAt).toBeLessThan(RELAY_BOUND_MS);
    }
    const head = await reader.head;
    expect(head.status).toBe(200);
    expect(head.headers['transfer-encoding']).toBe('chunked');
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.headers.etag).toBeUndefined();
    expect(head.headers['live-pipeline']).toBe('a');
    expect(head.headers['cache-control']).toContain('immutable');
    expect(head.headers['content-type']).toBe('video/iso.segment');
    expect(head.headers['cmsd-static']).toMatch(/ht=\d+/);
    const before = await Promise.race([reader.done, new Promise((resolve) => setTimeout(() => resolve('open'), 100))]);
    expect(before).toBe('open');
    const ack = await writer.end();
    expect(ack.status).toBe(201);
    expect(await reader.done).toEqual({ complete: true });
    expectSameBytes(reader.body(), Buffer.concat(parts));
  });

  it('gives the declared Content-Length to readers of a PUT that declared one', async () => {
    await liveEvent('swi-length');
    const body = randomBytes(50_000);
    const reader = openGet(origin.url, 'swi-length/v/seg_0.m4s');
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    const writer = openPut(origin.url, 'swi-length/a/v/seg_0.m4s', {}, body.length);
    await writer.write(body.subarray(0, 10_000));
    const head = await reader.head;
    expect(head.headers['content-length']).toBe(String(body.length));
    expect(head.headers['transfer-encoding']).toBeUndefined();
    await reader.received(10_000);
    await writer.write(body.subarray(10_000));
    expect((await writer.end()).status).toBe(201);
    expect(await reader.done).toEqual({ complete: true });
    expectSameBytes(reader.body(), body);
  });
});

describe('readers that come during the PUT', () => {
  it('a new GET during the PUT gets the bytes so far at once, from byte 0, then the rest', async () => {
    await liveEvent('swi-late');
    const writer = openPut(origin.url, 'swi-late/a/v/seg_0.m4s');
    const first = randomBytes(8_000);
    await writer.write(first);
    await arrived(origin, 'swi-late', 'v/seg_0.m4s', first.length);
    const late = openGet(origin.url, 'swi-late/v/seg_0.m4s');
    await late.received(first.length);
    expectSameBytes(late.body(), first);
    const second = randomBytes(4_000);
    await writer.write(second);
    await late.received(first.length + second.length);
    await writer.end();
    expect(await late.done).toEqual({ complete: true });
    expectSameBytes(late.body(), Buffer.concat([first, second]));
  });

  it('one buffer feeds many readers: 50 held readers all get every byte', async () => {
    await liveEvent('swi-many');
    const readers = Array.from({ length: 50 }, () => openGet(origin.url, 'swi-many/v/seg_0.m4s'));
    await eventually(() => expect(origin.app.origin.holds.held).toBe(50));
    const writer = openPut(origin.url, 'swi-many/a/v/seg_0.m4s');
    const parts = [randomBytes(30_000), randomBytes(30_000)];
    for (const part of parts) await writer.write(part);
    await writer.end();
    const whole = Buffer.concat(parts);
    for (const reader of readers) {
      expect(await reader.done).toEqual({ complete: true });
      expectSameBytes(reader.body(), whole);
    }
  });

  it('after the ack, the object is served whole with its ETag, as any complete candidate', async () => {
    await liveEvent('swi-after');
    const writer = openPut(origin.url, 'swi-after/a/v/seg_0.m4s');
    const body = randomBytes(5_000);
    await writer.write(body);
    await writer.end();
    const response = await fetch(`${origin.url}/live/swi-after/v/seg_0.m4s`);
    expect(response.headers.get('etag')).toBe(md5(body));
    expect(response.headers.get('content-length')).toBe('5000');
    expectSameBytes(Buffer.from(await response.arrayBuffer()), body);
  });

  it('HEAD during the PUT answers the headers of the streamed answer', async () => {
    await liveEvent('swi-head');
    const writer = openPut(origin.url, 'swi-head/a/v/seg_0.m4s', {}, 2_000);
    await writer.write(randomBytes(1_000));
    await arrived(origin, 'swi-head', 'v/seg_0.m4s', 1_000);
    const probe = openGet(origin.url, 'swi-head/v/seg_0.m4s', {}, 'HEAD');
    const head = await probe.head;
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('2000');
    expect(await probe.done).toEqual({ complete: true });
    await writer.write(randomBytes(1_000));
    await writer.end();
  });
});

describe('selection with PUTs still arriving', () => {
  it('a complete clean candidate beats one still arriving', async () => {
    await liveEvent('swi-sel-1');
    const writer = openPut(origin.url, 'swi-sel-1/a/v/seg_0.m4s');
    await writer.write('first bytes of a');
    await arrived(origin, 'swi-sel-1', 'v/seg_0.m4s', 16);
    expect((await put(origin, 'swi-sel-1', 'b', 'v/seg_0.m4s', 'whole b')).status).toBe(201);
    const response = await fetch(`${origin.url}/live/swi-sel-1/v/seg_0.m4s`);
    expect(response.headers.get('live-pipeline')).toBe('b');
    expect(await response.text()).toBe('whole b');
    writer.destroy();
  });

  it('among PUTs still arriving, the first clean one in pipeline order; its pin is taken at the first byte', async () => {
    await liveEvent('swi-sel-2');
    const b = openPut(origin.url, 'swi-sel-2/b/v/seg_0.m4s');
    await b.write('b bytes ');
    const a = openPut(origin.url, 'swi-sel-2/a/v/seg_0.m4s', { 'live-defect': 'short' });
    await a.write('a bytes ');
    await arrived(origin, 'swi-sel-2', 'v/seg_0.m4s', 8, 2);
    const reader = openGet(origin.url, 'swi-sel-2/v/seg_0.m4s');
    expect((await reader.head).headers['live-pipeline']).toBe('b');
    expect((await origin.stores.metadata.getObject('swi-sel-2', 'v/seg_0.m4s')).pinned).toBe('b');
    // a becomes complete first (defective): the pin keeps b, still arriving.
    await a.end();
    const again = openGet(origin.url, 'swi-sel-2/v/seg_0.m4s');
    expect((await again.head).headers['live-pipeline']).toBe('b');
    await b.write('more');
    await b.end();
    expect((await reader.done).complete).toBe(true);
    expect(reader.body().toString()).toBe('b bytes more');
    expect(again.body().toString()).toBe('b bytes more');
  });

  it('a defective PUT still arriving is served with its defects when nothing clean is there', async () => {
    await liveEvent('swi-sel-3');
    const a = openPut(origin.url, 'swi-sel-3/a/v/seg_0.m4s', { 'live-defect': 'tfdt' });
    await a.write('defective');
    await arrived(origin, 'swi-sel-3', 'v/seg_0.m4s', 9);
    const reader = openGet(origin.url, 'swi-sel-3/v/seg_0.m4s');
    const head = await reader.head;
    expect(head.headers['live-defect']).toBe('a=tfdt');
    expect(head.headers['cache-control']).not.toContain('immutable');
    await a.end();
    expect((await reader.done).complete).toBe(true);
  });
});

describe('purges', () => {
  it('completing a PUT that was served while it arrived purges nothing; a later clean replacement of a defective stream does', async () => {
    const cdn = await startPurgeReceiver();
    const purging = await startOrigin({ purgeUrls: [cdn.url] });
    try {
      await configure(purging, 'swi-purge', {
        pipelines: ['a', 'b'],
        segmentDurationMs: 2_000,
        availabilityStartTime: new Date().toISOString(),
        startNumber: 0,
      });
      const a = openPut(purging.url, 'swi-purge/a/v/seg_0.m4s');
      await a.write('clean bytes of a');
      await arrived(purging, 'swi-purge', 'v/seg_0.m4s', 16);
      const reader = openGet(purging.url, 'swi-purge/v/seg_0.m4s');
      await reader.received(16);
      await a.end();
      expect((await reader.done).complete).toBe(true);
      // A defective stream served, then b's clean copy: what the CDN holds is now wrong.
      const d = openPut(purging.url, 'swi-purge/a/v/seg_1.m4s', { 'live-defect': 'corrupt' });
      await d.write('defective a');
      await arrived(purging, 'swi-purge', 'v/seg_1.m4s', 11);
      const defective = openGet(purging.url, 'swi-purge/v/seg_1.m4s');
      expect((await defective.head).headers['live-defect']).toBe('a=corrupt');
      await d.end();
      await defective.done;
      expect((await put(purging, 'swi-purge', 'b', 'v/seg_1.m4s', 'clean b')).status).toBe(201);
      await purging.purger.flush();
      expect(cdn.received.map((r) => r.url)).toEqual(['/live/swi-purge/v/seg_1.m4s']);
    } finally {
      await purging.close();
      await cdn.close();
    }
  });
});

describe('a PUT that fails before its ack never becomes visible', () => {
  it('connection lost mid-body: readers are cut, the pin is dropped, and the next candidate is served from byte 0', async () => {
    await liveEvent('swi-lost');
    const reader = openGet(origin.url, 'swi-lost/v/seg_0.m4s');
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    const a = openPut(origin.url, 'swi-lost/a/v/seg_0.m4s');
    await a.write(randomBytes(10_000));
    await reader.received(10_000);
    expect((await origin.stores.metadata.getObject('swi-lost', 'v/seg_0.m4s')).pinned).toBe('a');
    a.destroy();
    expect(await reader.done).toEqual({ complete: false });
    await eventually(async () => expect((await origin.stores.metadata.getObject('swi-lost', 'v/seg_0.m4s')).pinned).toBeUndefined());
    expect((await origin.stores.metadata.getObject('swi-lost', 'v/seg_0.m4s')).candidates).toEqual([]);
    // Waiting again, then b's PUT streams to it from its first byte.
    const next = openGet(origin.url, 'swi-lost/v/seg_0.m4s');
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    const b = openPut(origin.url, 'swi-lost/b/v/seg_0.m4s');
    await b.write('b from byte 0');
    await b.end();
    expect((await next.head).headers['live-pipeline']).toBe('b');
    expect(await next.done).toEqual({ complete: true });
    expect(next.body().toString()).toBe('b from byte 0');
    const metrics = await origin.metrics.registry.metrics();
    expect(metrics).toMatch(/live_origin_ingest_streams_total\{outcome="failed"\} [1-9]/);
    expect(metrics).toMatch(/live_origin_streamed_answers_total\{outcome="cut"\} [1-9]/);
  });

  it('fewer bytes than its Content-Length: readers never get the end', async () => {
    await liveEvent('swi-short');
    const a = openPut(origin.url, 'swi-short/a/v/seg_0.m4s', {}, 10_000);
    await a.write(randomBytes(6_000));
    await arrived(origin, 'swi-short', 'v/seg_0.m4s', 6_000);
    const reader = openGet(origin.url, 'swi-short/v/seg_0.m4s');
    expect((await reader.head).headers['content-length']).toBe('10000');
    await reader.received(6_000);
    a.destroy();
    expect(await reader.done).toEqual({ complete: false });
    expect(reader.body().length).toBe(6_000);
  });

  it('size limit passed mid-body: 413 to the packager, readers cut', async () => {
    const small = await startOrigin({ maxObjectBytes: 20_000 });
    try {
      await configure(small, 'swi-limit', { segmentDurationMs: 2_000, availabilityStartTime: new Date().toISOString(), startNumber: 0 });
      const a = openPut(small.url, 'swi-limit/a/v/seg_0.m4s');
      await a.write(randomBytes(15_000));
      await arrived(small, 'swi-limit', 'v/seg_0.m4s', 15_000);
      const reader = openGet(small.url, 'swi-limit/v/seg_0.m4s');
      await reader.received(15_000);
      await a.write(randomBytes(15_000)).catch(() => undefined);
      expect((await a.answer).status).toBe(413);
      expect(await reader.done).toEqual({ complete: false });
      expect((await fetch(`${small.url}/ingest/swi-limit/a/v/seg_0.m4s`, { headers: AUTH })).status).toBe(404);
    } finally {
      await small.close();
    }
  });

  it('store failure at the ack: 503 to the packager; readers got every byte but the end, then were cut', async () => {
    const failing = await startOrigin({ stores: failingPutStores() });
    try {
      await configure(failing, 'swi-store', { segmentDurationMs: 2_000, availabilityStartTime: new Date().toISOString(), startNumber: 0 });
      const body = randomBytes(9_000);
      const chunked = openGet(failing.url, 'swi-store/v/seg_0.m4s');
      const a = openPut(failing.url, 'swi-store/a/v/seg_0.m4s');
      await a.write(body);
      await chunked.received(body.length);
      const answer = await a.end();
      expect(answer.status).toBe(503);
      expect(await chunked.done).toEqual({ complete: false });
      expectSameBytes(chunked.body(), body);
      // With a declared length the last byte is what is held back.
      const b = openPut(failing.url, 'swi-store/a/v/seg_1.m4s', {}, body.length);
      await b.write(body.subarray(0, 100));
      await arrived(failing, 'swi-store', 'v/seg_1.m4s', 100);
      const sized = openGet(failing.url, 'swi-store/v/seg_1.m4s');
      expect((await sized.head).status).toBe(200);
      await b.write(body.subarray(100));
      await sized.received(body.length - 1);
      expect((await b.end()).status).toBe(503);
      expect(await sized.done).toEqual({ complete: false });
      expectSameBytes(sized.body(), body.subarray(0, body.length - 1));
      expect((await fetch(`${failing.url}/live/swi-store/v/seg_1.m4s`)).status).not.toBe(200);
    } finally {
      await failing.close();
    }
  });
});

describe('hostile clients', () => {
  it('a chunked PUT that never ends is cut by the connection timeout: its readers are cut, nothing is visible', async () => {
    const quick = await startOrigin({ httpTimeouts: { connectionTimeoutMs: 400 } });
    try {
      await configure(quick, 'swi-stall', { segmentDurationMs: 2_000, availabilityStartTime: new Date().toISOString(), startNumber: 0 });
      const a = openPut(quick.url, 'swi-stall/a/v/seg_0.m4s');
      await a.write(randomBytes(1_000));
      await arrived(quick, 'swi-stall', 'v/seg_0.m4s', 1_000);
      const reader = openGet(quick.url, 'swi-stall/v/seg_0.m4s');
      await reader.received(1_000);
      const cutAt = performance.now();
      expect(await reader.done).toEqual({ complete: false });
      expect(performance.now() - cutAt).toBeLessThan(5_000);
      expect((await fetch(`${quick.url}/ingest/swi-stall/a/v/seg_0.m4s`, { headers: AUTH })).status).toBe(404);
    } finally {
      await quick.close();
    }
  });

  it('a reader that stops reading is dropped after the stall timeout; the other readers get every byte', async () => {
    const stalling = await startOrigin({ readerStallMs: 300 });
    try {
      await configure(stalling, 'swi-slow', { segmentDurationMs: 2_000, availabilityStartTime: new Date().toISOString(), startNumber: 0 });
      const a = openPut(stalling.url, 'swi-slow/a/v/seg_0.m4s');
      await a.write(randomBytes(1_000));
      await arrived(stalling, 'swi-slow', 'v/seg_0.m4s', 1_000);
      // A raw client that sends its GET and then never reads: its socket buffers fill up.
      const port = Number(new URL(stalling.url).port);
      const sleeper = net.connect(port, '127.0.0.1');
      sleeper.write('GET /live/swi-slow/v/seg_0.m4s HTTP/1.1\r\nHost: x\r\n\r\n');
      sleeper.pause();
      sleeper.on('error', () => undefined);
      const reader = openGet(stalling.url, 'swi-slow/v/seg_0.m4s');
      await reader.received(1_000);
      const rest = randomBytes(6 * 1024 * 1024);
      for (let at = 0; at < rest.length; at += 256 * 1024) await a.write(rest.subarray(at, at + 256 * 1024));
      await a.end();
      expect(await reader.done).toEqual({ complete: true });
      expect(reader.body().length).toBe(1_000 + rest.length);
      await eventually(async () => expect(await stalling.metrics.registry.metrics()).toMatch(/live_origin_streamed_answers_total\{outcome="stalled"\} 1/));
      sleeper.destroy();
    } finally {
      await stalling.close();
    }
  });

  it('a second PUT of the same pipeline and path while the first streams: readers keep the one they started', async () => {
    await liveEvent('swi-second');
    const first = openPut(origin.url, 'swi-second/a/v/seg_0.m4s');
    await first.write('first version, ');
    await arrived(origin, 'swi-second', 'v/seg_0.m4s', 15);
    const early = openGet(origin.url, 'swi-second/v/seg_0.m4s');
    await early.received(15);
    const second = openPut(origin.url, 'swi-second/a/v/seg_0.m4s');
    await second.write('second version, ');
    await arrived(origin, 'swi-second', 'v/seg_0.m4s', 16);
    const late = openGet(origin.url, 'swi-second/v/seg_0.m4s');
    await late.received(16);
    await first.write('end of first');
    await second.write('end of second');
    await first.end();
    await second.end();
    expect((await early.done).complete).toBe(true);
    expect((await late.done).complete).toBe(true);
    expect(early.body().toString()).toBe('first version, end of first');
    expect(late.body().toString()).toBe('second version, end of second');
  });

  it('PATCH while the PUT streams: 409 with Retry-After; after the ack it applies', async () => {
    await liveEvent('swi-patch');
    const a = openPut(origin.url, 'swi-patch/a/v/seg_0.m4s');
    await a.write('bytes');
    await arrived(origin, 'swi-patch', 'v/seg_0.m4s', 5);
    const during = await fetch(`${origin.url}/ingest/swi-patch/a/v/seg_0.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect((await during.json()).error).toBe('conflict');
    await a.end();
    const after = await fetch(`${origin.url}/ingest/swi-patch/a/v/seg_0.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    expect(after.status).toBe(200);
  });

  it('a playlist is never served partial: the previous version is served until the new one is acknowledged', async () => {
    await put(origin, 'swi-playlist', 'a', 'v/index.m3u8', '#EXTM3U\n#v1\n', { 'content-type': 'application/vnd.apple.mpegurl' });
    const a = openPut(origin.url, 'swi-playlist/a/v/index.m3u8', { 'content-type': 'application/vnd.apple.mpegurl' });
    await a.write('#EXTM3U\n#v2 (partial');
    const response = await fetch(`${origin.url}/live/swi-playlist/v/index.m3u8`);
    expect(await response.text()).toBe('#EXTM3U\n#v1\n');
    await a.write(')\n');
    await a.end();
  });
});

/** Memory stores whose segment writes fail: every PUT is refused at its ack. */
function failingPutStores(): Stores {
  const inner = createMemoryStores({ memoryBytes: 16 * 1024 * 1024, observer: NO_OBSERVER });
  const segments = Object.create(inner.segments) as Stores['segments'];
  segments.put = async () => {
    throw new Error('segment store down');
  };
  return { ...inner, segments };
}
