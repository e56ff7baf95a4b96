import type { Cancel, Clock } from '../../runtime/ports/clock.js';

interface Pending {
  readonly id: number;
  at: number;
  readonly every?: number;
  readonly callback: () => void;
}

/**
 * Fake time for tests: `now()` stands still until `advance` moves it, and timers fire in due
 * order as it passes them. Between timers, `advance` lets pending promise jobs and I/O callbacks
 * run (a macrotask turn), so async code woken by one timer settles before the next fires, as it
 * would on the real clock.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(start = Date.UTC(2026, 11, 5, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Durations on fake time are the time the test moved. */
  monotonic(): number {
    return this.current;
  }

  after(ms: number, callback: () => void): Cancel {
    return this.add({ id: this.nextId++, at: this.current + Math.max(0, ms), callback });
  }

  every(ms: number, callback: () => void): Cancel {
    return this.add({ id: this.nextId++, at: this.current + ms, every: ms, callback });
  }

  /** Timers not yet fired or cancelled. */
  get timers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    await settle();
    for (;;) {
      const due = this.nextDue(until);
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      if (due.every === undefined) this.pending.delete(due.id);
      else due.at += due.every;
      due.callback();
      await settle();
    }
    this.current = until;
    await settle();
  }

  /** When the next pending timer is due (epoch ms), or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.nextDue(Number.POSITIVE_INFINITY)?.at;
  }

  /**
   * For code that waits in turn on this clock and on real I/O (a retry after a refused request):
   * until `done()` (or `done` settles), moves time to each timer due within `maxPauseMs` (a pause between attempts)
   * as soon as it is the next one, and otherwise gives the I/O a real moment. Timers further
   * away (a call's time limit) never fire, so each pause lasts exactly what the code asked for.
   * Gives up after `giveUpMs` of real time; the test's checks then fail.
   */
  async runPauses(done: (() => boolean) | Promise<unknown>, maxPauseMs: number, giveUpMs = 10_000): Promise<void> {
    let over = false;
    const finished = typeof done === 'function' ? done : () => over;
    if (typeof done !== 'function') {
      const end = (): void => {
        over = true;
      };
      done.then(end, end);
    }
    const giveUpAt = Date.now() + giveUpMs;
    while (!finished() && Date.now() < giveUpAt) {
      const next = this.nextTimerAt();
      if (next !== undefined && next - this.current <= maxPauseMs) await this.advance(next - this.current);
      else await new Promise((resolve) => setTimeout(resolve, IO_MOMENT_MS));
    }
  }

  /** Sets the time without firing anything (a clock that jumps, as after an NTP step). */
  set(epochMs: number): void {
    this.current = epochMs;
  }

  private add(entry: Pending): Cancel {
    this.pending.set(entry.id, entry);
    // Zero-delay timers still fire asynchronously, as Node's do.
    return () => {
      this.pending.delete(entry.id);
    };
  }

  private nextDue(until: number): Pending | undefined {
    let next: Pending | undefined;
    for (const entry of this.pending.values()) {
      if (entry.at <= until && (!next || entry.at < next.at || (entry.at === next.at && entry.id < next.id))) next = entry;
    }
    return next;
  }
}

/** Real time given to I/O between looks at the timers in `runPauses`. */
const IO_MOMENT_MS = 2;

/** Lets queued promise jobs and immediate callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
