import { describe, expect, it } from 'vitest';
import { awsCall, WRITE_FAULT_MS } from '../../runtime/adapters/aws-retry.js';
import type { StoreObserver } from '../../runtime/ports/store-observer.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * A store call's latency and its slow-write fault are measured on the injected clock
 * (its monotonic reading): on fake time they are exactly the time the test moved.
 */
describe('awsCall on fake time', () => {
  function recording(): { observer: StoreObserver; latencies: number[]; faults: string[] } {
    const latencies: number[] = [];
    const faults: string[] = [];
    const observer: StoreObserver = {
      ...NO_OBSERVER,
      latency: (_store, _operation, seconds) => void latencies.push(seconds),
      fault: (_store, operation, reason) => void faults.push(`${operation}:${reason}`),
    };
    return { observer, latencies, faults };
  }

  /** Runs one call that completes when the clock has moved `ms`. */
  async function callTaking(ms: number, write: boolean, observer: StoreObserver): Promise<string> {
    const clock = new ManualClock();
    const call = awsCall(
      { observer, clock, store: 'metadata', operation: 'put', write, writeFaultMs: WRITE_FAULT_MS },
      () => new Promise<string>((resolve) => clock.after(ms, () => resolve('done'))),
    );
    await clock.advance(ms);
    return call;
  }

  it('reports the moved time as the latency, and no fault for a write within the threshold', async () => {
    const { observer, latencies, faults } = recording();
    expect(await callTaking(WRITE_FAULT_MS, true, observer)).toBe('done');
    expect(latencies).toEqual([WRITE_FAULT_MS / 1000]);
    expect(faults).toEqual([]);
  });

  it('flags a write slower than the threshold, but not a read', async () => {
    const write = recording();
    await callTaking(WRITE_FAULT_MS + 1, true, write.observer);
    expect(write.latencies).toEqual([(WRITE_FAULT_MS + 1) / 1000]);
    expect(write.faults).toEqual(['put:slow']);

    const read = recording();
    await callTaking(WRITE_FAULT_MS + 1, false, read.observer);
    expect(read.faults).toEqual([]);
  });
});
