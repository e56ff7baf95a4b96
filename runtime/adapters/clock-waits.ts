import type { Cancel, Clock } from '../ports/clock.js';

/**
 * The two waits the adapters make, on the injected clock rather than Node's timers: a pause
 * between retries, and a time limit on a call (an abort signal). On a test's fake clock both
 * pass only when the test moves time.
 */

/** Resolves `ms` from now. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}

/** An abort signal that fires `ms` from now; `cancel` it once the call is over, so no timer outlives the call. */
export interface TimeLimit {
  readonly signal: AbortSignal;
  readonly cancel: Cancel;
}

/**
 * `AbortSignal.timeout(ms)` on the clock: aborted with `reason()` when given, else with the
 * same `TimeoutError` the platform's own gives.
 */
export function abortAfter(clock: Clock, ms: number, reason?: () => unknown): TimeLimit {
  const controller = new AbortController();
  const cancel = clock.after(ms, () => controller.abort(reason ? reason() : new DOMException('The operation was aborted due to timeout', 'TimeoutError')));
  return { signal: controller.signal, cancel };
}
