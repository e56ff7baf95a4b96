import type { Cancel, Clock } from '../ports/clock.js';
import type { PublishedObject, PublishFeed } from '../ports/publish-feed.js';

/** Held requests woken per turn of the event loop when their object is published. */
export const RELEASE_BATCH = 64;

export type WaitOutcome = 'published' | 'timeout' | 'drain' | 'aborted' | 'shed';

interface Waiter {
  readonly startedAt: number;
  readonly group: DeadlineGroup;
  readonly resolve: (outcome: WaitOutcome) => void;
  unwatch: (() => void) | undefined;
}

/** The requests waiting for one object until one deadline: they share one timer. */
interface DeadlineGroup {
  readonly entry: Awaited;
  readonly deadlineMs: number;
  readonly waiters: Set<Waiter>;
  cancelTimer: Cancel | undefined;
}

interface Awaited {
  readonly id: string;
  readonly object: PublishedObject;
  readonly groups: Map<number, DeadlineGroup>;
  size: number;
}

/**
 * Watches for the client leaving: calls `onLeave` once if it goes, and returns how to stop
 * watching, or `undefined` when the client has already gone. Lighter than an AbortSignal per
 * held request.
 */
export type LeaveWatch = (onLeave: () => void) => (() => void) | undefined;

export interface HoldRegistryOptions {
  readonly maxHeld: number;
  /** Told of every change in the number of held requests. */
  readonly onHeldChange?: (held: number) => void;
  /** Told how each wait ended and how long it lasted. */
  readonly onWaitEnd?: (outcome: WaitOutcome, seconds: number) => void;
}

/**
 * Requests held open for objects that are about to be published. Each awaited object is
 * watched once on the publish feed, however many requests wait for it, and one publish wakes
 * exactly its waiters: nothing polls here.
 */
export class HoldRegistry {
  private readonly waiting = new Map<string, Awaited>();
  private count = 0;
  private draining = false;

  constructor(
    private readonly feed: PublishFeed,
    private readonly clock: Clock,
    private readonly options: HoldRegistryOptions,
  ) {
    feed.subscribe((object) => this.release(object));
  }

  get held(): number {
    return this.count;
  }

  /**
   * Resolves when the object is published, the deadline passes, the client leaves (`leave`), or
   * the server drains. Requests for one object with one deadline share a single timer.
   */
  wait(object: PublishedObject, deadlineMs: number, leave?: LeaveWatch): Promise<WaitOutcome> {
    if (this.draining) return Promise.resolve('drain');
    if (this.count >= this.options.maxHeld) {
      this.options.onWaitEnd?.('shed', 0);
      return Promise.resolve('shed');
    }
    return new Promise<WaitOutcome>((resolve) => {
      const waiter: Waiter = {
        startedAt: this.clock.now(),
        group: undefined!,
        resolve: (outcome) => this.finish(waiter, outcome, resolve),
        unwatch: undefined,
      };
      if (leave) {
        const unwatch = leave(() => waiter.resolve('aborted'));
        if (!unwatch) return resolve('aborted');
        waiter.unwatch = unwatch;
      }
      const entry = this.entryFor(object);
      (waiter as { group: DeadlineGroup }).group = this.groupFor(entry, deadlineMs);
      waiter.group.waiters.add(waiter);
      entry.size++;
      this.count++;
      this.options.onHeldChange?.(this.count);
    });
  }

  /**
   * Wakes every request waiting for the object, RELEASE_BATCH per turn of the event loop: each
   * batch is answered before the next is woken, so the first answers leave at once instead of
   * after every waiter has gone through each step of its answer together.
   */
  release(object: PublishedObject): void {
    const entry = this.waiting.get(keyOf(object));
    if (!entry) return;
    const waiters: Waiter[] = [];
    for (const group of entry.groups.values()) for (const waiter of group.waiters) waiters.push(waiter);
    const wake = (from: number): void => {
      for (let i = from; i < Math.min(waiters.length, from + RELEASE_BATCH); i++) waiters[i]!.resolve('published');
      // Not a wait on time: a yield to the event loop's I/O, which fake time must not hold back.
      // biome-ignore lint/style/noRestrictedGlobals: a turn of the event loop, not a timer on the Clock
      if (from + RELEASE_BATCH < waiters.length) setImmediate(() => wake(from + RELEASE_BATCH));
    };
    wake(0);
  }

  /** Answers every held request now and refuses new holds (graceful shutdown). */
  drain(): void {
    this.draining = true;
    for (const entry of [...this.waiting.values()]) {
      for (const group of [...entry.groups.values()]) for (const waiter of [...group.waiters]) waiter.resolve('drain');
    }
  }

  private entryFor(object: PublishedObject): Awaited {
    const id = keyOf(object);
    let entry = this.waiting.get(id);
    if (!entry) {
      entry = { id, object, groups: new Map(), size: 0 };
      this.waiting.set(id, entry);
      this.feed.watch(object);
    }
    return entry;
  }

  private groupFor(entry: Awaited, deadlineMs: number): DeadlineGroup {
    let group = entry.groups.get(deadlineMs);
    if (!group) {
      const created: DeadlineGroup = { entry, deadlineMs, waiters: new Set(), cancelTimer: undefined };
      created.cancelTimer = this.clock.after(deadlineMs - this.clock.now(), () => {
        for (const waiter of [...created.waiters]) waiter.resolve('timeout');
      });
      entry.groups.set(deadlineMs, created);
      group = created;
    }
    return group;
  }

  private finish(waiter: Waiter, outcome: WaitOutcome, resolve: (outcome: WaitOutcome) => void): void {
    const group = waiter.group;
    if (!group?.waiters.delete(waiter)) return;
    waiter.unwatch?.();
    const entry = group.entry;
    if (group.waiters.size === 0) {
      group.cancelTimer?.();
      entry.groups.delete(group.deadlineMs);
    }
    this.count--;
    this.options.onHeldChange?.(this.count);
    this.options.onWaitEnd?.(outcome, (this.clock.now() - waiter.startedAt) / 1000);
    if (--entry.size === 0 && this.waiting.get(entry.id) === entry) {
      this.waiting.delete(entry.id);
      this.feed.unwatch(entry.object);
    }
    resolve(outcome);
  }
}

function keyOf(object: PublishedObject): string {
  return `${object.event}\n${object.path}`;
}
