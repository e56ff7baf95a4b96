import { decodeCmsdDynamic, decodeCmsdStatic } from '@svta/cml-cmsd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURESS_LINGER_MS } from '../../runtime/domain/cmsd.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const D = 400;
const live = (o: TestOrigin, path: string, init?: RequestInit) => fetch(`${o.url}/live/${path}`, init);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const staticOf = (res: Response) => decodeCmsdStatic(res.headers.get('cmsd-static') ?? '');

async function liveEvent(o: TestOrigin, event: string, next: number, extra: Record<string, unknown> = {}): Promise<number> {
  const ast = Date.now() + D - next * D;
  await configure(o, event, { segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 1, ...extra });
  return ast;
}

describe('CMSD-Static on every kind of delivery response', () => {
  it('200: type, live, duration, next object and when it was published', async () => {
    await liveEvent(origin, 'cm-1', 10);
    const before = Date.now();
    await put(origin, 'cm-1', 'a', 'video/720p/seg_0009.m4s', 'nine');
    const after = Date.now();
    const res = await live(origin, 'cm-1/video/720p/seg_0009.m4s');
    expect(res.status).toBe(200);
    const cmsd = staticOf(res);
    expect(cmsd).toMatchObject({ ot: 'v', st: 'l', d: D, nor: 'seg_0010.m4s' });
    expect(cmsd.at).toBeGreaterThanOrEqual(before);
    expect(cmsd.at).toBeLessThanOrEqual(after);
    expect(cmsd.ht).toBeUndefined();
    expect(res.headers.get('cmsd-dynamic')).toBeNull();
  });

  it('206 and 304 and HEAD carry the same CMSD-Static as the 200', async () => {
    const full = await live(origin, 'cm-1/video/720p/seg_0009.m4s');
    const partial = await live(origin, 'cm-1/video/720p/seg_0009.m4s', { headers: { range: 'bytes=0-1' } });
    expect(partial.status).toBe(206);
    const notModified = await live(origin, 'cm-1/video/720p/seg_0009.m4s', { headers: { 'if-none-match': full.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
    const head = await live(origin, 'cm-1/video/720p/seg_0009.m4s', { method: 'HEAD' });
    for (const res of [partial, notModified, head]) expect(staticOf(res)).toEqual(staticOf(full));
  });

  it('200 for a playlist and an init segment: m with h, i; no next object', async () => {
    await put(origin, 'cm-2', 'a', 'v/index.m3u8', '#EXTM3U\n');
    await put(origin, 'cm-2', 'a', 'v/init.mp4', 'init');
    const playlist = staticOf(await live(origin, 'cm-2/v/index.m3u8'));
    expect(playlist).toMatchObject({ ot: 'm', st: 'l', sf: 'h' });
    expect(playlist.nor).toBeUndefined();
    expect(staticOf(await live(origin, 'cm-2/v/init.mp4'))).toMatchObject({ ot: 'i', st: 'l' });
  });

  it('200 after a hold: the time the origin held the request', async () => {
    await liveEvent(origin, 'cm-3', 10);
    const pending = live(origin, 'cm-3/audio/seg_10.m4s');
    await sleep(150);
    await put(origin, 'cm-3', 'a', 'audio/seg_10.m4s', 'ten');
    const cmsd = staticOf(await pending);
    expect(cmsd.ot).toBe('a');
    expect(cmsd.ht).toBeGreaterThanOrEqual(140);
    expect(cmsd.ht).toBeLessThan(150 + D);
    // The next viewer is not held, and is not told it was.
    expect(staticOf(await live(origin, 'cm-3/audio/seg_10.m4s')).ht).toBeUndefined();
  });

  it("404 for a segment not yet due: when the origin will answer for it (the end of the 404's lifetime)", async () => {
    await liveEvent(origin, 'cm-4', 10);
    const before = Date.now();
    const res = await live(origin, 'cm-4/v/seg_20.m4s');
    const after = Date.now();
    expect(res.status).toBe(404);
    const cmsd = staticOf(res);
    const ttl = Number(res.headers.get('live-ttl-ms'));
    expect(cmsd.at).toBeGreaterThanOrEqual(before + ttl);
    expect(cmsd.at).toBeLessThanOrEqual(after + ttl);
    expect(cmsd).toMatchObject({ st: 'l', d: D, nor: 'seg_21.m4s' });
  });

  it('404 after a hold timed out: how long it was held', async () => {
    await liveEvent(origin, 'cm-5', 10, { holdGraceMs: 50 });
    const started = Date.now();
    const res = await live(origin, 'cm-5/v/seg_10.m4s');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(404);
    const cmsd = staticOf(res);
    expect(cmsd.ht).toBeGreaterThanOrEqual(D / 2);
    expect(cmsd.ht).toBeLessThanOrEqual(elapsed);
    expect(cmsd.at).toBeUndefined();
  });

  it('404 for an unknown event and 410 for a segment never produced still say live', async () => {
    const unknown = await live(origin, 'cm-nobody/v/seg_1.m4s');
    expect(unknown.status).toBe(404);
    expect(staticOf(unknown)).toMatchObject({ st: 'l', nor: 'seg_2.m4s' });
    await liveEvent(origin, 'cm-6', 10);
    const gone = await live(origin, 'cm-6/v/seg_3.ts');
    expect(gone.status).toBe(410);
    expect(staticOf(gone)).toMatchObject({ ot: 'av', sf: 'h', st: 'l', d: D, nor: 'seg_4.ts' });
  });
});

describe('CMSD-Dynamic: duress while shedding', () => {
  it('503 when the held-request cap is reached says du, and so does every answer until the shedding stops', async () => {
    const shedding = await startOrigin({ maxHeld: 0 });
    try {
      await liveEvent(shedding, 'du-1', 10);
      await put(shedding, 'du-1', 'a', 'v/seg_9.m4s', 'nine');
      expect((await live(shedding, 'du-1/v/seg_9.m4s')).headers.get('cmsd-dynamic')).toBeNull();
      const shed = await live(shedding, 'du-1/v/seg_10.m4s');
      expect(shed.status).toBe(503);
      expect(decodeCmsdDynamic(shed.headers.get('cmsd-dynamic')!)).toEqual([{ value: 'live-origin', params: { du: true } }]);
      expect(staticOf(shed)).toMatchObject({ st: 'l', nor: 'seg_11.m4s' });
      const meanwhile = await live(shedding, 'du-1/v/seg_9.m4s');
      expect(meanwhile.status).toBe(200);
      expect(decodeCmsdDynamic(meanwhile.headers.get('cmsd-dynamic')!)[0]!.params.du).toBe(true);
      await sleep(DURESS_LINGER_MS + 100);
      expect((await live(shedding, 'du-1/v/seg_9.m4s')).headers.get('cmsd-dynamic')).toBeNull();
    } finally {
      await shedding.close();
    }
  });

  it('503 over the event rate budget says du too', async () => {
    const limited = await startOrigin({ eventRps: 1 });
    try {
      await put(limited, 'du-2', 'a', 'v/seg_1.m4s', 'one');
      let shed: Response | undefined;
      for (let i = 0; i < 5 && !shed; i++) {
        const res = await live(limited, 'du-2/v/seg_1.m4s');
        if (res.status === 503) shed = res;
      }
      expect(shed).toBeDefined();
      expect(decodeCmsdDynamic(shed!.headers.get('cmsd-dynamic')!)[0]!.params.du).toBe(true);
      expect(staticOf(shed!).st).toBe('l');
    } finally {
      await limited.close();
    }
  });
});
