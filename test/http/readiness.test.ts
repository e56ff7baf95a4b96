import { afterEach, describe, expect, it } from 'vitest';
import { READINESS_BUDGET_MS, READINESS_PROBE_MS, Readiness } from '../../runtime/http/readiness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store ping whose behaviour the test switches: answer after `delayMs`, or fail (all, or the next `failNext`). */
function fakeStore() {
  const store = { delayMs: 5, up: true, failNext: 0, failed: 0 };
  const ping = async () => {
    const up = store.up && store.failNext === 0;
    if (store.failNext > 0) store.failNext--;
    await sleep(store.delayMs);
    if (!up) {
      store.failed++;
      throw new Error('store down');
    }
  };
  return { store, ping };
}

/** Samples `ready` every 20 ms for `ms`: the states seen. */
async function sample(readiness: Readiness, ms: number): Promise<boolean[]> {
  const seen: boolean[] = [];
  for (const until = Date.now() + ms; Date.now() < until; await sleep(20)) seen.push(readiness.ready);
  return seen;
}

let readiness: Readiness | undefined;
afterEach(() => readiness?.stop());

describe('Readiness (runtime/http/readiness.ts)', () => {
  it('stays ready through slower store answers and single failed pings (a busy host)', async () => {
    const { store, ping } = fakeStore();
    readiness = new Readiness(ping);
    await readiness.start();
    expect(readiness.ready).toBe(true);
    // Answers 395 ms slower than before: the gap between answers grows to about 700 ms once.
    store.delayMs = 400;
    expect((await sample(readiness, 2_000)).every(Boolean)).toBe(true);
    // The next ping fails, the one after answers: a gap of two probe periods, still ready.
    store.delayMs = 5;
    await sleep(500);
    store.failNext = 1;
    expect((await sample(readiness, 4 * READINESS_PROBE_MS)).every(Boolean)).toBe(true);
    expect(store.failed).toBe(1);
  });

  it('turns unready within one second of the store going down, and ready again on its next answer', async () => {
    const { store, ping } = fakeStore();
    readiness = new Readiness(ping);
    await readiness.start();
    store.up = false;
    const downAt = Date.now();
    while (readiness.ready && Date.now() - downAt < 3_000) await sleep(10);
    const tookMs = Date.now() - downAt;
    expect(readiness.ready).toBe(false);
    expect(readiness.reason).toBe('store unreachable');
    expect(tookMs).toBeLessThanOrEqual(1_000);
    expect(tookMs).toBeGreaterThan(READINESS_BUDGET_MS - 600);
    store.up = true;
    const upAt = Date.now();
    while (!readiness.ready && Date.now() - upAt < 3_000) await sleep(10);
    expect(readiness.ready).toBe(true);
    expect(Date.now() - upAt).toBeLessThan(1_000);
  });

  it('is never ready before the first answer, nor while draining', async () => {
    const { store, ping } = fakeStore();
    store.up = false;
    readiness = new Readiness(ping);
    await readiness.start();
    expect(readiness.ready).toBe(false);
    store.up = true;
    await sleep(700);
    expect(readiness.ready).toBe(true);
    readiness.drain();
    expect(readiness.ready).toBe(false);
    expect(readiness.reason).toBe('draining');
  });
});
