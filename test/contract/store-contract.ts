import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Candidate } from '../../runtime/domain/model.js';
import { RENDITION_HISTORY } from '../../runtime/domain/model.js';
import { QUALITY_HISTORY } from '../../runtime/domain/quality.js';
import type { PublishedObject } from '../../runtime/ports/publish-feed.js';
import type { SegmentKey } from '../../runtime/ports/segment-store.js';
import type { Stores } from '../../runtime/ports/stores.js';

/**
 * The one contract every store implementation passes: one suite, run against each adapter, so a
 * new store is held to the same checks as the others. It states the port documentation as
 * executable checks.
 */

export interface StoreInstance {
  readonly stores: Stores;
  cleanup(): Promise<void>;
}

export interface StoreContractOptions {
  /**
   * Set when two instances made by `make` cannot share data (one process, one memory): the
   * reason is shown and the cross-instance cases are skipped. Otherwise every call to `make`
   * must return a new instance over the same backing store, as separate servers would be.
   */
  readonly singleInstance?: string;
}

/** The contract's read bound across instances (1 s, docs/contract.md), plus room for a slow test machine. */
const CROSS_INSTANCE_READ_MS = 1_000;
const SLACK_MS = 1_000;

export function etagOf(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

function uniqueEvent(): string {
  return `ev-${randomUUID().slice(0, 8)}`;
}

function candidate(event: string, pipeline: string, path: string, extra: Partial<Candidate> = {}): Candidate {
  const body = Buffer.from(`${event}/${pipeline}/${path}/${extra.publishedAt ?? 0}`);
  return {
    event,
    pipeline,
    path,
    kind: 'segment',
    number: 42,
    rendition: 'video/720p/seg_{n}.m4s',
    etag: etagOf(body),
    size: body.length,
    contentType: 'video/mp4',
    defects: [],
    publishedAt: 1_700_000_000_000,
    ...extra,
  };
}

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function byPipeline(candidates: readonly Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => a.pipeline.localeCompare(b.pipeline));
}

export function describeStoreContract(name: string, make: () => Promise<StoreInstance>, options: StoreContractOptions = {}): void {
  describe(`store contract: ${name}`, () => {
    let instance: StoreInstance;
    let stores: Stores;
    let event: string;

    beforeEach(async () => {
      instance = await make();
      stores = instance.stores;
      event = uniqueEvent();
    });

    afterEach(async () => {
      await instance.cleanup();
    });

    describe('segments', () => {
      const key = (path: string, pipeline = 'a'): SegmentKey => ({ event, pipeline, path });

      it('answers undefined for an object never stored', async () => {
        expect(await stores.segments.get(key('video/seg_1.m4s'))).toBeUndefined();
      });

      it('returns exactly the bytes, content type and entity tag it was given', async () => {
        const body = Buffer.from('segment bytes \u0000\u00ff');
        await stores.segments.put(key('video/seg_1.m4s'), body, { contentType: 'video/iso.segment', etag: etagOf(body) });
        const stored = await stores.segments.get(key('video/seg_1.m4s'));
        expect(stored?.body.equals(body)).toBe(true);
        expect(stored?.contentType).toBe('video/iso.segment');
        expect(stored?.etag).toBe(etagOf(body));
      });

      it('round-trips a 2 MiB random segment and a zero-byte object byte for byte', async () => {
        const big = randomBytes(2 * 1024 * 1024);
        const empty = Buffer.alloc(0);
        await stores.segments.put(key('video/seg_2.m4s'), big, { contentType: 'video/mp4', etag: etagOf(big) });
        await stores.segments.put(key('video/empty.m4s'), empty, { contentType: 'application/octet-stream', etag: etagOf(empty) });
        const storedBig = await stores.segments.get(key('video/seg_2.m4s'), etagOf(big));
        const storedEmpty = await stores.segments.get(key('video/empty.m4s'));
        expect(storedBig?.body.length).toBe(big.length);
        expect(storedBig?.body.equals(big)).toBe(true);
        expect(storedEmpty?.body.length).toBe(0);
        expect(storedEmpty?.etag).toBe(etagOf(empty));
      });

      it('overwrites an earlier put of the same key', async () => {
        const first = Buffer.from('first');
        const second = Buffer.from('second version');
        await stores.segments.put(key('index.m3u8'), first, { contentType: 'application/vnd.apple.mpegurl', etag: etagOf(first) });
        await stores.segments.put(key('index.m3u8'), second, { contentType: 'text/plain', etag: etagOf(second) });
        const stored = await stores.segments.get(key('index.m3u8'), etagOf(second));
        expect(stored?.body.equals(second)).toBe(true);
        expect(stored?.contentType).toBe('text/plain');
        expect(stored?.etag).toBe(etagOf(second));
      });

      it('keeps each pipeline’s object of one path apart', async () => {
        const a = Buffer.from('from a');
        const b = Buffer.from('from b');
        await stores.segments.put(key('seg_3.m4s', 'a'), a, { contentType: 'video/mp4', etag: etagOf(a) });
        await stores.segments.put(key('seg_3.m4s', 'b'), b, { contentType: 'video/mp4', etag: etagOf(b) });
        expect((await stores.segments.get(key('seg_3.m4s', 'a')))?.body.equals(a)).toBe(true);
        expect((await stores.segments.get(key('seg_3.m4s', 'b')))?.body.equals(b)).toBe(true);
      });

      it('deletes an object, and deleting an absent one is not an error', async () => {
        const body = Buffer.from('to delete');
        await stores.segments.put(key('seg_4.m4s'), body, { contentType: 'video/mp4', etag: etagOf(body) });
        await stores.segments.delete(key('seg_4.m4s'));
        expect(await stores.segments.get(key('seg_4.m4s'))).toBeUndefined();
        await expect(stores.segments.delete(key('never-stored.m4s'))).resolves.toBeUndefined();
      });

      it('answers ping while reachable', async () => {
        await expect(stores.segments.ping()).resolves.toBeUndefined();
      });
    });

    describe('events', () => {
      it('knows no event before it is created', async () => {
        expect(await stores.metadata.getEvent(event)).toBeUndefined();
      });

      it('creates an event once with the default config (ensureEvent is idempotent)', async () => {
        expect(await stores.metadata.ensureEvent(event, 1_000)).toBe(true);
        expect(await stores.metadata.ensureEvent(event, 2_000)).toBe(false);
        const state = await stores.metadata.getEvent(event);
        expect(state).toMatchObject({ event, createdAt: 1_000, config: {}, notifications: {}, masks: [], pipelines: {}, renditions: {} });
      });

      it('lets exactly one of concurrent ensureEvent calls create the event', async () => {
        const results = await Promise.all([1, 2, 3, 4, 5].map((i) => stores.metadata.ensureEvent(event, i)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('replaces the whole config with putEventConfig, creating the event if needed', async () => {
        expect(await stores.metadata.putEventConfig(event, { pipelines: ['b', 'a'], segmentDurationMs: 2_000, availabilityStartTime: 5_000 }, 1_000)).toBe(
          true,
        );
        expect((await stores.metadata.getEvent(event))?.config).toEqual({ pipelines: ['b', 'a'], segmentDurationMs: 2_000, availabilityStartTime: 5_000 });
        expect(await stores.metadata.putEventConfig(event, { windowSegments: 30 }, 2_000)).toBe(false);
        const state = await stores.metadata.getEvent(event);
        expect(state?.config).toEqual({ windowSegments: 30 });
        expect(state?.createdAt).toBe(1_000);
      });

      it('keeps createdAt when configuring an existing event', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        expect(await stores.metadata.putEventConfig(event, { holdGraceMs: 500 }, 9_000)).toBe(false);
        expect(await stores.metadata.getEvent(event)).toMatchObject({ createdAt: 1_000, config: { holdGraceMs: 500 } });
      });

      it('merges notifications: the latest value per name wins, an empty value removes', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        expect(await stores.metadata.mergeNotifications(event, { alert: 'outage', 'availability-start': '2024-01-01T00:00:00Z' })).toEqual({
          alert: 'outage',
          'availability-start': '2024-01-01T00:00:00Z',
        });
        expect(await stores.metadata.mergeNotifications(event, { alert: 'resolved' })).toEqual({
          alert: 'resolved',
          'availability-start': '2024-01-01T00:00:00Z',
        });
        expect(await stores.metadata.mergeNotifications(event, { 'availability-start': '' })).toEqual({ alert: 'resolved' });
        expect((await stores.metadata.getEvent(event))?.notifications).toEqual({ alert: 'resolved' });
      });

      it('adds masks, keeping every field, in the order they were created', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.addMask(event, { from: 10, to: 20, pipeline: 'a', createdAt: 2_000 });
        await stores.metadata.addMask(event, { paths: ['video/seg_5.m4s', 'audio/seg_5.m4s'], createdAt: 3_000 });
        expect((await stores.metadata.getEvent(event))?.masks).toEqual([
          { from: 10, to: 20, pipeline: 'a', createdAt: 2_000 },
          { paths: ['video/seg_5.m4s', 'audio/seg_5.m4s'], createdAt: 3_000 },
        ]);
      });

      it('records publishes: pipeline stats, and the first publish of each number per rendition', async () => {
        const rendition = 'video/720p/seg_{n}.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: 2_000, number: 10, rendition, width: 3, defective: false });
        await stores.metadata.recordPublish(event, { pipeline: 'b', at: 2_500, number: 10, rendition, width: 3, defective: false });
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: 3_000, number: 9, rendition, width: 3, defective: true });
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: 3_500, defective: false });
        const state = await stores.metadata.getEvent(event);
        expect(state?.pipelines).toEqual({
          a: { pipeline: 'a', lastIngestAt: 3_500, edge: 10, ingests: 3, defective: 1 },
          b: { pipeline: 'b', lastIngestAt: 2_500, edge: 10, ingests: 1, defective: 0 },
        });
        expect(state?.renditions[rendition]).toEqual({
          rendition,
          width: 3,
          recent: [
            [9, 3_000],
            [10, 2_000],
          ],
        });
      });

      it('keeps the newest RENDITION_HISTORY numbers of a rendition, ascending, and its widest padding', async () => {
        const rendition = 'audio/seg_{n}.m4a';
        await stores.metadata.ensureEvent(event, 1_000);
        const last = RENDITION_HISTORY + 20;
        for (let number = 1; number <= last; number++) {
          await stores.metadata.recordPublish(event, { pipeline: 'a', at: number * 1_000, number, rendition, width: number === 5 ? 4 : 0, defective: false });
        }
        const state = await stores.metadata.getEvent(event);
        const recent = state?.renditions[rendition]?.recent ?? [];
        expect(recent).toHaveLength(RENDITION_HISTORY);
        expect(recent[recent.length - 1]).toEqual([last, last * 1_000]);
        expect(recent.map(([n]) => n)).toEqual([...recent.map(([n]) => n)].sort((x, y) => x - y));
        expect(recent[0]![0]).toBe(last - RENDITION_HISTORY + 1);
        expect(state?.renditions[rendition]?.width).toBe(4);
        expect(state?.pipelines.a).toMatchObject({ edge: last, ingests: last });
      });

      it('keeps a pipeline’s newest QUALITY_HISTORY scores, oldest first; a publish without a score leaves them', async () => {
        const rendition = 'video/seg_{n}.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.recordPublish(event, { pipeline: 'b', at: 1_000, defective: false });
        const last = 2 * QUALITY_HISTORY + 5;
        for (let number = 1; number <= last; number++) {
          await stores.metadata.recordPublish(event, { pipeline: 'a', at: number * 1_000, number, rendition, defective: false, quality: number % 101 });
        }
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: (last + 1) * 1_000, defective: false });
        const state = await stores.metadata.getEvent(event);
        const expected = Array.from({ length: QUALITY_HISTORY }, (_, i) => (last - QUALITY_HISTORY + 1 + i) % 101);
        expect(state?.pipelines.a?.recentQuality).toEqual(expected);
        expect(state?.pipelines.a).toMatchObject({ edge: last, ingests: last + 1 });
        expect(state?.pipelines.b?.recentQuality ?? []).toEqual([]);
      });
    });

    describe('declared durations (contract v3)', () => {
      const rendition = 'video/720p/seg_{n}.m4s';

      it('records what a playlist declares, creating a rendition not yet published, and replaces it on the next declaration', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.recordDeclared(event, [{ rendition, playlist: 'video/720p/index.m3u8', declaredMs: 2_000 }], 1_500);
        expect((await stores.metadata.getEvent(event))?.renditions[rendition]).toEqual({
          rendition,
          width: 0,
          recent: [],
          declaredMs: 2_000,
          playlist: 'video/720p/index.m3u8',
        });
        await stores.metadata.recordDeclared(event, [{ rendition, playlist: 'manifest.mpd' }], 1_600);
        expect((await stores.metadata.getEvent(event))?.renditions[rendition]).toEqual({ rendition, width: 0, recent: [], playlist: 'manifest.mpd' });
      });

      it('keeps a declaration across publishes, and the publishes across a declaration', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: 2_000, number: 10, rendition, width: 3, defective: false });
        await stores.metadata.recordDeclared(event, [{ rendition, playlist: 'video/720p/index.m3u8', declaredMs: 2_000 }], 2_100);
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: 4_000, number: 11, rendition, width: 3, defective: false });
        expect((await stores.metadata.getEvent(event))?.renditions[rendition]).toEqual({
          rendition,
          width: 3,
          recent: [
            [10, 2_000],
            [11, 4_000],
          ],
          declaredMs: 2_000,
          playlist: 'video/720p/index.m3u8',
        });
      });

      it('keeps the most recent first publishes when a packager restarts at lower numbers', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const old = RENDITION_HISTORY + 20;
        for (let number = 101; number <= 100 + old; number++) {
          await stores.metadata.recordPublish(event, { pipeline: 'a', at: number * 1_000, number, rendition, defective: false });
        }
        const restartedAt = (100 + old) * 1_000 + 30_000;
        for (let number = 0; number < 3; number++) {
          await stores.metadata.recordPublish(event, { pipeline: 'a', at: restartedAt + number * 1_000, number, rendition, defective: false });
        }
        const recent = (await stores.metadata.getEvent(event))?.renditions[rendition]?.recent ?? [];
        expect(recent).toHaveLength(RENDITION_HISTORY);
        expect(recent.slice(0, 3)).toEqual([
          [0, restartedAt],
          [1, restartedAt + 1_000],
          [2, restartedAt + 2_000],
        ]);
        expect(recent[3]![0]).toBe(100 + old - RENDITION_HISTORY + 4);
      });
    });

    describe('objects', () => {
      const path = 'video/720p/seg_000042.m4s';

      it('has no candidates and no pin for an unknown object', async () => {
        expect(await stores.metadata.getObject(event, path)).toEqual({ candidates: [] });
      });

      it('stores candidates per pipeline and returns the one each put replaced', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const a1 = candidate(event, 'a', path, { publishedAt: 1 });
        const b1 = candidate(event, 'b', path, { publishedAt: 2, defects: ['short'] });
        const a2 = candidate(event, 'a', path, { publishedAt: 3, size: 99 });
        expect(await stores.metadata.putCandidate(a1)).toBeUndefined();
        expect(await stores.metadata.putCandidate(b1)).toBeUndefined();
        expect(await stores.metadata.putCandidate(a2)).toEqual(a1);
        const record = await stores.metadata.getObject(event, path);
        expect(byPipeline(record.candidates)).toEqual([a2, b1]);
        expect(record.pinned).toBeUndefined();
      });

      it('round-trips candidates without a number (static and mutable objects)', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const init: Candidate = {
          event,
          pipeline: 'a',
          path: 'video/init.mp4',
          kind: 'static',
          etag: '"abc"',
          size: 0,
          contentType: 'video/mp4',
          defects: [],
          publishedAt: 5,
        };
        await stores.metadata.putCandidate(init);
        expect((await stores.metadata.getObject(event, 'video/init.mp4')).candidates).toEqual([init]);
      });

      it('reads its own writes at once, even after caching the object', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([]);
        const a = candidate(event, 'a', path);
        await stores.metadata.putCandidate(a);
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([a]);
        await stores.metadata.setDefects(event, 'a', path, ['tfdt']);
        expect((await stores.metadata.getObject(event, path)).candidates[0]?.defects).toEqual(['tfdt']);
        await stores.metadata.swapPin(event, path, undefined, 'a');
        expect((await stores.metadata.getObject(event, path)).pinned).toBe('a');
        await stores.metadata.deleteCandidate(event, 'a', path);
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([]);
      });

      it('replaces a candidate’s defects (empty clears them) and answers undefined for an absent one', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const a = candidate(event, 'a', path);
        await stores.metadata.putCandidate(a);
        expect(await stores.metadata.setDefects(event, 'a', path, ['short', 'av-sync'])).toEqual({ ...a, defects: ['short', 'av-sync'] });
        expect(await stores.metadata.setDefects(event, 'a', path, [])).toEqual(a);
        expect(await stores.metadata.setDefects(event, 'b', path, ['short'])).toBeUndefined();
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([a]);
      });

      it('round-trips a candidate’s quality score, and leaves it out of a candidate stored without one', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const scored = candidate(event, 'a', path, { quality: 40 });
        const unscored = candidate(event, 'b', path);
        const zero = candidate(event, 'c', path, { quality: 0 });
        for (const c of [scored, unscored, zero]) await stores.metadata.putCandidate(c);
        expect(byPipeline((await stores.metadata.getObject(event, path)).candidates)).toEqual([scored, unscored, zero]);
      });

      it('replaces a candidate’s score, reading it back at once, and answers undefined for an absent one', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const a = candidate(event, 'a', path, { quality: 100, defects: ['short'] });
        await stores.metadata.putCandidate(a);
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([a]);
        expect(await stores.metadata.setQuality(event, 'a', path, 35)).toEqual({ ...a, quality: 35 });
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([{ ...a, quality: 35 }]);
        expect(await stores.metadata.setQuality(event, 'b', path, 35)).toBeUndefined();
        expect((await stores.metadata.getObject(event, path)).candidates).toHaveLength(1);
      });

      it('deletes a candidate, returning it, and answers undefined for an absent one', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const a = candidate(event, 'a', path);
        const b = candidate(event, 'b', path);
        await stores.metadata.putCandidate(a);
        await stores.metadata.putCandidate(b);
        expect(await stores.metadata.deleteCandidate(event, 'a', path)).toEqual(a);
        expect(await stores.metadata.deleteCandidate(event, 'a', path)).toBeUndefined();
        expect((await stores.metadata.getObject(event, path)).candidates).toEqual([b]);
      });

      it('sets the pin only when the current pin is the expected one (compare-and-set)', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        expect(await stores.metadata.swapPin(event, path, undefined, 'a')).toBe('a');
        expect(await stores.metadata.swapPin(event, path, undefined, 'b')).toBe('a');
        expect(await stores.metadata.swapPin(event, path, 'b', 'c')).toBe('a');
        expect(await stores.metadata.swapPin(event, path, 'a', 'b')).toBe('b');
        expect((await stores.metadata.getObject(event, path)).pinned).toBe('b');
      });

      it('drops the pin only when it is the expected one (compare-and-delete)', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.dropPin(event, path, 'a');
        expect(await stores.metadata.swapPin(event, path, undefined, 'a')).toBe('a');
        await stores.metadata.dropPin(event, path, 'b');
        expect((await stores.metadata.getObject(event, path)).pinned).toBe('a');
        await stores.metadata.dropPin(event, path, 'a');
        expect((await stores.metadata.getObject(event, path)).pinned).toBeUndefined();
        expect(await stores.metadata.swapPin(event, path, undefined, 'b')).toBe('b');
      });

      it('gives concurrent first pins exactly one winner, and every caller the same answer', async () => {
        await stores.metadata.ensureEvent(event, 1_000);
        const pipelines = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
        const answers = await Promise.all(pipelines.map((pipeline) => stores.metadata.swapPin(event, path, undefined, pipeline)));
        expect(new Set(answers).size).toBe(1);
        expect(pipelines).toContain(answers[0]);
        expect((await stores.metadata.getObject(event, path)).pinned).toBe(answers[0]);
      });

      it('clears every pin of one event, and only of that event', async () => {
        const other = uniqueEvent();
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.ensureEvent(other, 1_000);
        await stores.metadata.swapPin(event, path, undefined, 'a');
        await stores.metadata.swapPin(event, 'video/720p/seg_000043.m4s', undefined, 'b');
        await stores.metadata.swapPin(other, path, undefined, 'a');
        await stores.metadata.clearPins(event);
        expect((await stores.metadata.getObject(event, path)).pinned).toBeUndefined();
        expect((await stores.metadata.getObject(event, 'video/720p/seg_000043.m4s')).pinned).toBeUndefined();
        expect((await stores.metadata.getObject(other, path)).pinned).toBe('a');
        expect(await stores.metadata.swapPin(event, path, undefined, 'b')).toBe('b');
      });

      it('answers ping while reachable', async () => {
        await expect(stores.metadata.ping()).resolves.toBeUndefined();
      });
    });

    describe('publish feed', () => {
      it('tells every subscriber of a local announce at once', () => {
        const heard: PublishedObject[][] = [[], []];
        stores.feed.subscribe((object) => heard[0]!.push(object));
        stores.feed.subscribe((object) => heard[1]!.push(object));
        stores.feed.announce({ event, path: 'video/seg_7.m4s' });
        expect(heard).toEqual([[{ event, path: 'video/seg_7.m4s' }], [{ event, path: 'video/seg_7.m4s' }]]);
      });
    });

    describe.skipIf(options.singleInstance !== undefined)(`across instances${options.singleInstance ? ` (skipped: ${options.singleInstance})` : ''}`, () => {
      let other: StoreInstance;

      beforeEach(async () => {
        other = await make();
      });

      afterEach(async () => {
        await other.cleanup();
      });

      it('reads bytes written by another instance', async () => {
        const body = randomBytes(64 * 1024);
        const key = { event, pipeline: 'a', path: 'video/seg_8.m4s' };
        await stores.segments.put(key, body, { contentType: 'video/mp4', etag: etagOf(body) });
        expect((await other.stores.segments.get(key, etagOf(body)))?.body.equals(body)).toBe(true);
      });

      it('releases a watcher on another instance, whose reads then see the publish', async () => {
        const path = 'video/720p/seg_000100.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.recordPublish(event, { pipeline: 'a', at: Date.now(), number: 99, rendition: 'video/720p/seg_{n}.m4s', defective: false });
        // The watcher has read the object (nothing yet) and waits for it.
        expect((await other.stores.metadata.getObject(event, path)).candidates).toEqual([]);
        const released = new Promise<readonly Candidate[]>((resolve) => {
          other.stores.feed.subscribe((object) => {
            if (object.path === path) void other.stores.metadata.getObject(event, path).then((record) => resolve(record.candidates));
          });
        });
        other.stores.feed.watch({ event, path });
        // A publish as the ingest makes it: candidate, publish record, then the announce.
        const published = candidate(event, 'a', path, { publishedAt: Date.now() });
        await stores.metadata.putCandidate(published);
        await stores.metadata.recordPublish(event, {
          pipeline: 'a',
          at: published.publishedAt,
          number: 100,
          rendition: 'video/720p/seg_{n}.m4s',
          defective: false,
        });
        stores.feed.announce({ event, path });
        const seen = await Promise.race([
          released,
          new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), CROSS_INSTANCE_READ_MS + SLACK_MS)),
        ]);
        expect(seen).toEqual([published]);
        other.stores.feed.unwatch({ event, path });
      });

      it('tells a watcher only of the objects it watches', async () => {
        const watched = 'video/seg_201.m4s';
        const unwatched = 'video/seg_202.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        const heard: string[] = [];
        const released = new Promise<void>((resolve) => {
          other.stores.feed.subscribe((object) => {
            heard.push(object.path);
            if (object.path === watched) resolve();
          });
        });
        other.stores.feed.watch({ event, path: watched });
        for (const [path, number] of [
          [unwatched, 202],
          [watched, 201],
        ] as const) {
          await stores.metadata.putCandidate(candidate(event, 'a', path, { publishedAt: Date.now() }));
          await stores.metadata.recordPublish(event, { pipeline: 'a', at: Date.now(), number, rendition: 'video/seg_{n}.m4s', defective: false });
        }
        await Promise.race([released, new Promise((resolve) => setTimeout(resolve, CROSS_INSTANCE_READ_MS + SLACK_MS))]);
        expect(heard).toEqual([watched]);
      });

      it('shows another instance’s candidate and config writes within the read bound', async () => {
        const path = 'video/seg_300.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        expect((await other.stores.metadata.getObject(event, path)).candidates).toEqual([]);
        expect((await other.stores.metadata.getEvent(event))?.config).toEqual({});
        const a = candidate(event, 'a', path);
        await stores.metadata.putCandidate(a);
        await stores.metadata.putEventConfig(event, { holdGraceMs: 250 }, 1_000);
        const record = await eventually(
          () => other.stores.metadata.getObject(event, path),
          (r) => r.candidates.length === 1,
          CROSS_INSTANCE_READ_MS + SLACK_MS,
        );
        const state = await eventually(
          () => other.stores.metadata.getEvent(event),
          (s) => s?.config.holdGraceMs === 250,
          CROSS_INSTANCE_READ_MS + SLACK_MS,
        );
        expect(record.candidates).toEqual([a]);
        expect(state?.config).toEqual({ holdGraceMs: 250 });
      });

      it('shows another instance’s declared durations within the read bound', async () => {
        const rendition = 'video/seg_{n}.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        expect((await other.stores.metadata.getEvent(event))?.renditions).toEqual({});
        await stores.metadata.recordDeclared(event, [{ rendition, playlist: 'video/index.m3u8', declaredMs: 1_001 }], 1_000);
        const state = await eventually(
          () => other.stores.metadata.getEvent(event),
          (s) => s?.renditions[rendition] !== undefined,
          CROSS_INSTANCE_READ_MS + SLACK_MS,
        );
        expect(state?.renditions[rendition]).toMatchObject({ declaredMs: 1_001, playlist: 'video/index.m3u8' });
      });

      it('converges concurrent first pins from two instances on one winner', async () => {
        const path = 'video/seg_400.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        const [mine, theirs] = await Promise.all([
          stores.metadata.swapPin(event, path, undefined, 'a'),
          other.stores.metadata.swapPin(event, path, undefined, 'b'),
        ]);
        expect(mine).toBe(theirs);
      });

      it('sees another instance’s clearPins within the read bound', async () => {
        const path = 'video/seg_500.m4s';
        await stores.metadata.ensureEvent(event, 1_000);
        await stores.metadata.swapPin(event, path, undefined, 'a');
        expect((await other.stores.metadata.getObject(event, path)).pinned).toBe('a');
        await stores.metadata.clearPins(event);
        const record = await eventually(
          () => other.stores.metadata.getObject(event, path),
          (r) => r.pinned === undefined,
          CROSS_INSTANCE_READ_MS + SLACK_MS,
        );
        expect(record.pinned).toBeUndefined();
        expect(await other.stores.metadata.swapPin(event, path, undefined, 'b')).toBe('b');
      });
    });
  });
}
