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

/** Lets queued promise jobs and immediate callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
