import { afterEach, describe, expect, it } from 'vitest';
import { READINESS_BUDGET_MS, READINESS_PROBE_MS, Readiness } from '../../runtime/http/readiness.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * A store ping whose behaviour the test switches: answer `delayMs` of fake time after it is
 * sent, or fail (all, or the next `failNext`).
 */
function fakeStore(clock: ManualClock) {
  const store = { delayMs: 5, up: true, failNext: 0, failed: 0 };
  const ping = () =>
    new Promise<void>((resolve, reject) => {
      const up = store.up && store.failNext === 0;
      if (store.failNext > 0) store.failNext--;
      clock.after(store.delayMs, () => {
        if (up) return resolve();
        store.failed++;
        reject(new Error('store down'));
      });
    });
  return { store, ping };
}

/** Moves fake time forward `ms`, 10 ms at a time: the readiness seen at each step. */
async function sample(clock: ManualClock, readiness: Readiness, ms: number): Promise<boolean[]> {
  const seen: boolean[] = [];
  for (let t = 0; t < ms; t += 10) {
    await clock.advance(10);
    seen.push(readiness.ready);
  }
  return seen;
}

/** Starts readiness: its first probe needs the store's answer, so time moves while it waits. */
async function started(clock: ManualClock, readiness: Readiness): Promise<void> {
  const starting = readiness.start();
  await clock.advance(READINESS_BUDGET_MS);
  await starting;
}

let readiness: Readiness | undefined;
afterEach(() => readiness?.stop());

describe('Readiness (runtime/http/readiness.ts)', () => {
  it('stays ready through slower store answers and single failed pings (a busy host)', async () => {
    const clock = new ManualClock();
    const { store, ping } = fakeStore(clock);
    readiness = new Readiness(ping, clock);
    await started(clock, readiness);
    expect(readiness.ready).toBe(true);
    // Answers 395 ms slower than before: the gap between answers grows to about 700 ms once.
    store.delayMs = 400;
    expect((await sample(clock, readiness, 2_000)).every(Boolean)).toBe(true);
    // The next ping fails, the one after answers: a gap of two probe periods, still ready.
    store.delayMs = 5;
    await clock.advance(500);
    store.failNext = 1;
    expect((await sample(clock, readiness, 4 * READINESS_PROBE_MS)).every(Boolean)).toBe(true);
    expect(store.failed).toBe(1);
  });

  it('turns unready within the budget of the store going down, and ready again on its next answer', async () => {
    const clock = new ManualClock();
    const { store, ping } = fakeStore(clock);
    readiness = new Readiness(ping, clock);
    await started(clock, readiness);
    store.up = false;
    const seen = await sample(clock, readiness, 2_000);
    const unreadyAfterMs = (seen.indexOf(false) + 1) * 10;
    expect(readiness.ready).toBe(false);
    expect(readiness.reason).toBe('store unreachable');
    // The last answer came at most one probe period before the store went down.
    expect(unreadyAfterMs).toBeGreaterThan(READINESS_BUDGET_MS - READINESS_PROBE_MS - 10);
    expect(unreadyAfterMs).toBeLessThanOrEqual(READINESS_BUDGET_MS);
    store.up = true;
    const back = await sample(clock, readiness, 1_000);
    expect(readiness.ready).toBe(true);
    // One probe period and the store's answer.
    expect((back.indexOf(true) + 1) * 10).toBeLessThanOrEqual(READINESS_PROBE_MS + store.delayMs + 10);
  });

  it('is never ready before the first answer, nor while draining', async () => {
    const clock = new ManualClock();
    const { store, ping } = fakeStore(clock);
    store.up = false;
    readiness = new Readiness(ping, clock);
    await started(clock, readiness);
    expect(readiness.ready).toBe(false);
    store.up = true;
    await clock.advance(READINESS_PROBE_MS + store.delayMs);
    expect(readiness.ready).toBe(true);
    readiness.drain();
    expect(readiness.ready).toBe(false);
    expect(readiness.reason).toBe('draining');
  });
});
