import { describe, expect, it } from 'vitest';
import { HotCache } from '../../runtime/adapters/hot-cache.js';
import { MemorySegmentStore } from '../../runtime/adapters/memory-segment-store.js';
import type { SegmentKey, SegmentStore, StoredBytes } from '../../runtime/ports/segment-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { RecordingObserver } from './recording-observer.js';

/** A backing store that counts reads, can be slowed down (on fake time: a read ends when the test moves the clock), and can be switched off. */
class ControlledStore implements SegmentStore {
  readonly inner = new MemorySegmentStore();
  readonly clock = new ManualClock();
  reads = 0;
  readDelayMs = 0;
  down = false;

  async put(key: SegmentKey, body: Buffer, meta: { contentType: string; etag: string }): Promise<void> {
    if (this.down) throw new Error('store down');
    await this.inner.put(key, body, meta);
  }
  /** Answers with what was stored when the read arrived, however long the answer takes. */
  async get(key: SegmentKey): Promise<StoredBytes | undefined> {
    this.reads++;
    if (this.down) throw new Error('store down');
    const stored = await this.inner.get(key);
    if (this.readDelayMs) await new Promise((resolve) => this.clock.after(this.readDelayMs, () => resolve(undefined)));
    return stored;
  }
  async delete(key: SegmentKey): Promise<void> {
    if (this.down) throw new Error('store down');
    await this.inner.delete(key);
  }
  async ping(): Promise<void> {
    if (this.down) throw new Error('store down');
  }
  async close(): Promise<void> {}
}

const key = (path: string): SegmentKey => ({ event: 'ev', pipeline: 'a', path });
const bytes = (size: number, fill = 1): Buffer => Buffer.alloc(size, fill);

function setup(maxBytes = 1_000) {
  const backing = new ControlledStore();
  const observer = new RecordingObserver();
  return { backing, observer, cache: new HotCache(backing, { maxBytes, observer }) };
}

describe('HotCache', () => {
  it('serves a put from memory without reading the backing store (write-through)', async () => {
    const { backing, observer, cache } = setup();
    await cache.put(key('seg_1.m4s'), bytes(10), { contentType: 'video/mp4', etag: '"1"' });
    expect((await cache.get(key('seg_1.m4s')))?.etag).toBe('"1"');
    expect(await backing.inner.get(key('seg_1.m4s'))).toBeDefined();
    expect(backing.reads).toBe(0);
    expect(observer.hits).toBe(1);
  });

  it('coalesces concurrent misses of one key into one backing read', async () => {
    const { backing, observer, cache } = setup();
    await backing.inner.put(key('seg_2.m4s'), bytes(10), { contentType: 'video/mp4', etag: '"2"' });
    backing.readDelayMs = 30;
    const reading = Promise.all(Array.from({ length: 50 }, () => cache.get(key('seg_2.m4s'))));
    await backing.clock.advance(30);
    const results = await reading;
    expect(backing.reads).toBe(1);
    expect(results.every((stored) => stored?.etag === '"2"')).toBe(true);
    expect(observer.misses).toBe(50);
    await cache.get(key('seg_2.m4s'));
    expect(backing.reads).toBe(1);
    expect(observer.hits).toBe(1);
  });

  it('stays within its byte bound, evicting the least recently used first', async () => {
    const { observer, cache } = setup(300);
    await cache.put(key('a'), bytes(100), { contentType: 'x', etag: '"a"' });
    await cache.put(key('b'), bytes(100), { contentType: 'x', etag: '"b"' });
    await cache.put(key('c'), bytes(100), { contentType: 'x', etag: '"c"' });
    await cache.get(key('a'));
    await cache.put(key('d'), bytes(100), { contentType: 'x', etag: '"d"' });
    expect(cache.usedBytes).toBe(300);
    expect(observer.evictions).toEqual([{ store: 'hot-cache', bytes: 100 }]);
    const before = observer.hits;
    for (const name of ['a', 'c', 'd']) await cache.get(key(name));
    expect(observer.hits - before).toBe(3);
    await cache.get(key('b'));
    expect(observer.hits - before).toBe(3);
  });

  it('does not cache an object larger than its whole bound', async () => {
    const { backing, cache } = setup(100);
    await cache.put(key('big'), bytes(101), { contentType: 'x', etag: '"big"' });
    expect(cache.usedBytes).toBe(0);
    expect((await cache.get(key('big')))?.body.length).toBe(101);
    expect(backing.reads).toBe(1);
  });

  it('fetches again when the metadata names another version than the cached one', async () => {
    const { backing, cache } = setup();
    await cache.put(key('index.m3u8'), bytes(10, 1), { contentType: 'x', etag: '"v1"' });
    // Another instance replaced the object: the backing store has v2, this cache still v1.
    await backing.inner.put(key('index.m3u8'), bytes(10, 2), { contentType: 'x', etag: '"v2"' });
    expect((await cache.get(key('index.m3u8'), '"v1"'))?.etag).toBe('"v1"');
    expect(backing.reads).toBe(0);
    const fresh = await cache.get(key('index.m3u8'), '"v2"');
    expect(fresh?.etag).toBe('"v2"');
    expect(fresh?.body[0]).toBe(2);
    expect(backing.reads).toBe(1);
    expect((await cache.get(key('index.m3u8'), '"v2"'))?.etag).toBe('"v2"');
    expect(backing.reads).toBe(1);
  });

  it('keeps serving cached objects while the backing store is down, and fails the rest', async () => {
    const { backing, cache } = setup();
    await cache.put(key('cached'), bytes(10), { contentType: 'x', etag: '"c"' });
    await backing.inner.put(key('uncached'), bytes(10), { contentType: 'x', etag: '"u"' });
    backing.down = true;
    expect((await cache.get(key('cached')))?.etag).toBe('"c"');
    await expect(cache.get(key('uncached'))).rejects.toThrow('store down');
    await expect(cache.put(key('new'), bytes(10), { contentType: 'x', etag: '"n"' })).rejects.toThrow('store down');
    expect(await cache.get(key('cached'))).toBeDefined();
    backing.down = false;
    expect((await cache.get(key('uncached')))?.etag).toBe('"u"');
  });

  it('caches nothing of a put the backing store refused', async () => {
    const { backing, cache } = setup();
    backing.down = true;
    await expect(cache.put(key('seg_9.m4s'), bytes(10), { contentType: 'x', etag: '"9"' })).rejects.toThrow();
    backing.down = false;
    expect(await cache.get(key('seg_9.m4s'))).toBeUndefined();
    expect(cache.usedBytes).toBe(0);
  });

  it('never lets a read that started before a put cache the older bytes', async () => {
    const { backing, cache } = setup();
    await backing.inner.put(key('live.mpd'), bytes(10, 1), { contentType: 'x', etag: '"old"' });
    backing.readDelayMs = 40;
    const slowRead = cache.get(key('live.mpd'));
    await cache.put(key('live.mpd'), bytes(10, 2), { contentType: 'x', etag: '"new"' });
    // The read answers only now, after the put, with what the store held when it arrived.
    await backing.clock.advance(40);
    expect((await slowRead)?.etag).toBe('"old"');
    expect((await cache.get(key('live.mpd')))?.etag).toBe('"new"');
  });

  it('forgets a deleted object', async () => {
    const { cache } = setup();
    await cache.put(key('gone'), bytes(10), { contentType: 'x', etag: '"g"' });
    await cache.delete(key('gone'));
    expect(await cache.get(key('gone'))).toBeUndefined();
    expect(cache.usedBytes).toBe(0);
  });
});
