import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../runtime/adapters/read-cache.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A backing read that answers `value` after `ms`, or fails, counting its calls. */
function store(initial: string) {
  const state = { value: initial, ms: 0, fail: false, calls: 0 };
  const load = async () => {
    state.calls++;
    await sleep(state.ms);
    if (state.fail) throw new Error('store down');
    return state.value;
  };
  return { state, load };
}

describe('ReadCache: hot keys never wait for a slow or failing store', () => {
  it('serves a value past its TTL at once while one refresh runs, then the refreshed value', async () => {
    const cache = new ReadCache<string>(40, 10, { staleWhileRevalidateMs: 200, staleIfErrorMs: 1_000 });
    const { state, load } = store('v1');
    expect(await cache.get('k', load)).toBe('v1');
    state.value = 'v2';
    state.ms = 30;
    await sleep(50);
    const started = performance.now();
    expect(await cache.get('k', load)).toBe('v1');
    expect(await cache.get('k', load)).toBe('v1');
    expect(performance.now() - started).toBeLessThan(20);
    expect(state.calls).toBe(2);
    await sleep(40);
    expect(await cache.get('k', load)).toBe('v2');
  });

  it('past the revalidate window, readers wait for the store unless a refresh is already struggling', async () => {
    const cache = new ReadCache<string>(20, 10, { staleWhileRevalidateMs: 40, staleIfErrorMs: 1_000 });
    const { state, load } = store('v1');
    await cache.get('k', load);
    await sleep(60);
    state.value = 'v2';
    state.ms = 100;
    // The first reader past the window waits for a fresh value...
    const first = cache.get('k', load);
    // ...and the ones behind it are not queued: the refresh is running, they get the old value.
    const started = performance.now();
    expect(await cache.get('k', load)).toBe('v1');
    expect(performance.now() - started).toBeLessThan(20);
    expect(await first).toBe('v2');
  });

  it('serves the last value when the store fails, up to staleIfErrorMs, then reports the failure', async () => {
    const cache = new ReadCache<string>(10, 10, { staleWhileRevalidateMs: 20, staleIfErrorMs: 150 });
    const { state, load } = store('v1');
    await cache.get('k', load);
    state.fail = true;
    await sleep(30);
    expect(await cache.get('k', load)).toBe('v1');
    expect(await cache.get('k', load)).toBe('v1');
    await sleep(150);
    await expect(cache.get('k', load)).rejects.toThrow('store down');
    await expect(cache.get('other', load)).rejects.toThrow('store down');
  });

  it('a local write still wins over a refresh that started before it', async () => {
    const cache = new ReadCache<string>(100, 10, { staleWhileRevalidateMs: 1_000 });
    let stored = 'old';
    const load = async () => {
      const value = stored;
      await sleep(30);
      return value;
    };
    await cache.get('k', load);
    await sleep(110);
    // Past the TTL: served at once, with a refresh that read the store before the write below.
    expect(await cache.get('k', load)).toBe('old');
    stored = 'written';
    cache.patch('k', () => 'written');
    await sleep(50);
    expect(await cache.get('k', load)).toBe('written');
  });
});
