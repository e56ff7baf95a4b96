/**
 * The answers table (runtime/http/answers.ts) and the one error writer (runtime/http/error-writer.ts),
 * over a real socket: a delivery miss's reason decides its status, body, lifetime and
 * Retry-After; an error reads the same whether the delivery fast path or a Fastify route wrote
 * it; a 405's Allow comes from the routes the app registered. The origins run on fake time, so a
 * hold lasts until the test ends it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import type { Stores } from '../../runtime/ports/stores.js';
import { ManualClock } from '../support/manual-clock.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';
import { until } from '../support/until.js';

const D = 2_000;
const M3U8 = { 'content-type': 'application/vnd.apple.mpegurl' };
/** A blocking-reload playlist whose last whole segment is 272. */
const PLAYLIST = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-PART-INF:PART-TARGET=0.5',
  '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5',
  '#EXT-X-MEDIA-SEQUENCE:270',
  '#EXTINF:2.0,',
  'fileSequence270.mp4',
  '#EXTINF:2.0,',
  'fileSequence271.mp4',
  '#EXTINF:2.0,',
  'fileSequence272.mp4',
  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart273.0.mp4"',
  '',
].join('\n');

const origins: TestOrigin[] = [];
afterEach(async () => {
  for (const origin of origins.splice(0)) await origin.close();
});

async function origin(options: Parameters<typeof startOrigin>[0] = {}): Promise<TestOrigin & { clock: ManualClock }> {
  const clock = new ManualClock();
  const started = await startOrigin({ clock, ...options });
  origins.push(started);
  return { ...started, clock };
}

/** An event on the origin's clock whose segment 10 is in its hold window now. */
async function liveEvent(at: TestOrigin & { clock: ManualClock }, event: string): Promise<void> {
  const ast = at.clock.now() + D - 10 * D;
  expect((await configure(at, event, { segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 1 })).status).toBe(201);
}

async function misses(at: TestOrigin): Promise<Record<string, number>> {
  const { values } = await at.metrics.deliveryMisses.get();
  return Object.fromEntries(values.map((v) => [`${v.labels.status} ${v.labels.reason}`, v.value]));
}

describe('a delivery miss is answered by its reason', () => {
  it('a held segment request the origin drains: 404 not_found, the short lifetime, no Retry-After', async () => {
    const at = await origin();
    await liveEvent(at, 'an-1');
    const held = fetch(`${at.url}/live/an-1/v/seg_10.m4s`);
    await until(() => at.app.origin.holds.held === 1);
    at.app.origin.holds.drain();
    const res = await held;
    expect([res.status, res.headers.get('live-ttl-ms'), res.headers.get('retry-after')]).toEqual([404, '100', null]);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'origin is shutting down' });
    expect(await misses(at)).toEqual({ '404 drain': 1 });
  });

  it('a blocking playlist reload the origin drains: 503 overloaded, no lifetime, Retry-After 5', async () => {
    const at = await origin();
    await liveEvent(at, 'an-2');
    expect((await put(at, 'an-2', 'a', 'v/index.m3u8', PLAYLIST, M3U8)).status).toBe(201);
    const held = fetch(`${at.url}/live/an-2/v/index.m3u8?_HLS_msn=273`);
    await until(() => at.app.origin.holds.held === 1);
    at.app.origin.holds.drain();
    const res = await held;
    expect([res.status, res.headers.get('live-ttl-ms'), res.headers.get('retry-after')]).toEqual([503, '0', '5']);
    expect(await res.json()).toEqual({ error: 'overloaded', message: 'origin is shutting down' });
    expect(await misses(at)).toEqual({ '503 reload_drain': 1 });
  });

  it('a segment not due yet: 404 whose lifetime the timing rules computed (until its hold window)', async () => {
    const at = await origin();
    await liveEvent(at, 'an-3');
    // Segment 13 enters its hold window three segments from now.
    const res = await fetch(`${at.url}/live/an-3/v/seg_13.m4s`);
    expect([res.status, res.headers.get('live-ttl-ms')]).toEqual([404, String(3 * D)]);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'segment not due yet' });
    expect(await misses(at)).toEqual({ '404 future': 1 });
  });
});

/** The memory stores, whose event reads fail while `down`. */
function failingReads(): { stores: Stores; setDown(down: boolean): void } {
  const inner = createMemoryStores({ memoryBytes: 1 << 20, observer: NO_OBSERVER });
  let down = false;
  const metadata = Object.create(inner.metadata) as Stores['metadata'];
  metadata.getEvent = async (event) => {
    if (down) throw new Error('store down');
    return inner.metadata.getEvent(event);
  };
  return { stores: { ...inner, metadata }, setDown: (value) => (down = value) };
}

describe('one error writer for the fast path and the Fastify routes', () => {
  it('writes a store failure the same on both: 503 store_unavailable, Retry-After 1, counted as unserved each time', async () => {
    const { stores, setDown } = failingReads();
    const at = await origin({ stores });
    setDown(true);
    const before = at.metrics.snapshot().unserved;
    const fast = await fetch(`${at.url}/live/an-4/v/seg_1.m4s`);
    const routed = await fetch(`${at.url}/admin/events/an-4`, { headers: AUTH });
    for (const res of [fast, routed]) {
      expect([res.status, res.headers.get('retry-after'), res.headers.get('content-type')]).toEqual([503, '1', 'application/json; charset=utf-8']);
      expect(Object.keys(await res.json())).toEqual(['error', 'message']);
    }
    expect(at.metrics.snapshot().unserved - before).toBe(2);
  });

  it('writes an invalid identifier the same on both: 400 invalid_identifier, no Retry-After, not unserved', async () => {
    const at = await origin();
    const before = at.metrics.snapshot().unserved;
    const fast = await fetch(`${at.url}/live/bad!event/v/seg_1.m4s`);
    const routed = await fetch(`${at.url}/admin/events/bad!event`, { headers: AUTH });
    for (const res of [fast, routed]) {
      expect([res.status, res.headers.get('retry-after'), res.headers.get('content-type')]).toEqual([400, null, 'application/json; charset=utf-8']);
      expect((await res.json()).error).toBe('invalid_identifier');
    }
    expect(at.metrics.snapshot().unserved - before).toBe(0);
  });
});

describe('405 Allow from the registered routes', () => {
  it('lists the methods the routes serve at that path, without the CORS preflight', async () => {
    const at = await origin();
    const allow = async (method: string, path: string) => {
      const res = await fetch(`${at.url}${path}`, { method });
      return [res.status, res.headers.get('allow')];
    };
    expect(await allow('POST', '/live/an-5/v/seg_1.m4s')).toEqual([405, 'GET, HEAD']);
    expect(await allow('DELETE', '/admin/events/an-5')).toEqual([405, 'GET, HEAD, PUT']);
    expect(await allow('GET', '/admin/events/an-5/invalidations')).toEqual([405, 'POST']);
    expect(await allow('POST', '/ingest/an-5/a/v/seg_1.m4s')).toEqual([405, 'GET, HEAD, PUT, PATCH, DELETE']);
    // The status page's routes too, which no hand-kept list named.
    expect(await allow('POST', '/status.json')).toEqual([405, 'GET, HEAD']);
    expect(await allow('POST', '/nowhere')).toEqual([404, null]);
  });
});
