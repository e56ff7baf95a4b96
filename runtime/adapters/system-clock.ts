import type { Cancel, Clock } from '../ports/clock.js';

/** The machine's clock and Node's timers: what the server entry injects. */
export const systemClock: Clock = {
  now: () => Date.now(),
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
