import { beforeEach, describe, expect, it } from 'vitest';
import type { ReadCacheBounds } from '../../runtime/adapters/read-cache.js';
import { ReadCache } from '../../runtime/adapters/read-cache.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * On fake time (the cache ages its entries on the clock it is given; the backing reads below
 * wait on the same clock): each step moves the clock exactly, so no verdict depends on how busy
 * the host is.
 */
let clock = new ManualClock();
beforeEach(() => {
  clock = new ManualClock();
});

const elapse = (ms: number) => clock.advance(ms);
const cacheOf = (ttlMs: number, bounds: ReadCacheBounds) => new ReadCache<string>(ttlMs, 10, bounds, clock);

type Outcome<T> = { value: T } | { error: unknown };
const outcomeOf = <T>(read: Promise<T>): Promise<Outcome<T>> =>
  read.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
const unwrap = <T>(outcome: Outcome<T>): T => {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
};

/** `read` once the clock has moved `ms` (a backing read of 0 ms still waits for a timer). */
async function after<T>(ms: number, read: Promise<T>): Promise<T> {
  const outcome = outcomeOf(read);
  await elapse(ms);
  return unwrap(await outcome);
}

/** What `read` gives without the clock moving ('waiting' if it waits for time to pass): "at once". */
async function atOnce<T>(read: Promise<T>): Promise<T | 'waiting'> {
  let outcome: Outcome<T> | undefined;
  void outcomeOf(read).then((settled) => {
    outcome = settled;
  });
  await elapse(0);
  return outcome ? unwrap(outcome) : 'waiting';
}

/** A backing read that answers `value` after `ms`, or fails, counting its calls. */
function store(initial: string) {
  const state = { value: initial, ms: 0, fail: false, calls: 0 };
  const load = async () => {
    state.calls++;
    await new Promise((resolve) => clock.after(state.ms, () => resolve(undefined)));
    if (state.fail) throw new Error('store down');
    return state.value;
  };
  return { state, load };
}

describe('ReadCache: hot keys never wait for a slow or failing store', () => {
  it('serves a value past its TTL at once while one refresh runs, then the refreshed value', async () => {
    const cache = cacheOf(40, { staleWhileRevalidateMs: 200, staleIfErrorMs: 1_000 });
    const { state, load } = store('v1');
    expect(await after(0, cache.get('k', load))).toBe('v1');
    state.value = 'v2';
    state.ms = 30;
    await elapse(50);
    expect(await atOnce(cache.get('k', load))).toBe('v1');
    expect(await atOnce(cache.get('k', load))).toBe('v1');
    expect(state.calls).toBe(2);
    await elapse(40);
    expect(await atOnce(cache.get('k', load))).toBe('v2');
  });

  it('past the revalidate window, readers wait for the store unless a refresh is already struggling', async () => {
    const cache = cacheOf(20, { staleWhileRevalidateMs: 40, staleIfErrorMs: 1_000 });
    const { state, load } = store('v1');
    await after(0, cache.get('k', load));
    await elapse(60);
    state.value = 'v2';
    state.ms = 100;
    // The first reader past the window waits for a fresh value...
    const first = cache.get('k', load);
    expect(await atOnce(first)).toBe('waiting');
    // ...and the ones behind it are not queued: the refresh is running, they get the old value.
    expect(await atOnce(cache.get('k', load))).toBe('v1');
    await elapse(100);
    expect(await first).toBe('v2');
  });

  it('serves the last value when the store fails, up to staleIfErrorMs, then reports the failure', async () => {
    const cache = cacheOf(10, { staleWhileRevalidateMs: 20, staleIfErrorMs: 150 });
    const { state, load } = store('v1');
    await after(0, cache.get('k', load));
    state.fail = true;
    await elapse(30);
    expect(await atOnce(cache.get('k', load))).toBe('v1');
    expect(await atOnce(cache.get('k', load))).toBe('v1');
    await elapse(150);
    await expect(after(0, cache.get('k', load))).rejects.toThrow('store down');
    await expect(after(0, cache.get('other', load))).rejects.toThrow('store down');
  });

  it('a local write still wins over a refresh that started before it', async () => {
    const cache = cacheOf(100, { staleWhileRevalidateMs: 1_000 });
    let stored = 'old';
    const load = async () => {
      const value = stored;
      await new Promise((resolve) => clock.after(30, () => resolve(undefined)));
      return value;
    };
    await after(30, cache.get('k', load));
    await elapse(110);
    // Past the TTL: served at once, with a refresh that read the store before the write below.
    expect(await atOnce(cache.get('k', load))).toBe('old');
    stored = 'written';
    cache.patch('k', () => 'written');
    await elapse(50);
    expect(await atOnce(cache.get('k', load))).toBe('written');
  });
});
