/**
 * Time as the origin reads it and waits on it. One source, injected into every service and
 * store that reads the time or sets a timer, so a test can run the rules on fake time (deadlines
 * pass when the test says so) instead of sleeping, and so a deadline is never set on one clock
 * and timed on another. The server entry uses the system clock (adapters/system-clock.ts).
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin on a steady clock that never steps (as the time of day
   * may when it is corrected): for measuring how long something took, never a time of day.
   */
  monotonic(): number;
  /**
   * Calls `callback` once, `ms` from now (at once for `ms` <= 0, but never synchronously).
   * Returns how to cancel it. A pending timer never keeps the process alive by itself.
   */
  after(ms: number, callback: () => void): Cancel;
  /** Calls `callback` every `ms` until cancelled; never keeps the process alive by itself. */
  every(ms: number, callback: () => void): Cancel;
}

/** Cancels a timer; calling it again, or after the timer fired, does nothing. */
export type Cancel = () => void;
