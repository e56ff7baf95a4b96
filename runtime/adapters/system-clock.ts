import type { Cancel, Clock } from '../ports/clock.js';

/** The machine's clock and Node's timers: what the server entry injects. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after(ms: number, callback: () => void): Cancel {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return () => clearTimeout(timer);
  },
  every(ms: number, callback: () => void): Cancel {
    const timer = setInterval(callback, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/**
 * Keeps the process running until the returned function is called, although the clock's own
 * timers never do: the server's shutdown holds it while it waits on them (the drain delay, the
 * last purges and their retries), so the process ends by its own exit, not by running dry.
 */
export function holdProcessOpen(): Cancel {
  const handle = setInterval(() => undefined, HOLD_PERIOD_MS);
  return () => clearInterval(handle);
}

/** A period long enough that the hold's timer never actually runs. */
const HOLD_PERIOD_MS = 2 ** 31 - 1;
