import type { PublishFeed, PublishedObject } from '../ports/publish-feed.js';

/** Held requests woken per turn of the event loop when their object is published. */
export const RELEASE_BATCH = 64;

export type WaitOutcome = 'published' | 'timeout' | 'drain' | 'aborted' | 'shed';

interface Waiter {
  readonly startedAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: WaitOutcome) => void;
}

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
  private readonly waiting = new Map<string, { readonly object: PublishedObject; readonly waiters: Set<Waiter> }>();
  private count = 0;
  private draining = false;

  constructor(
    private readonly feed: PublishFeed,
    private readonly options: HoldRegistryOptions,
  ) {
    feed.subscribe((object) => this.release(object));
  }

  get held(): number {
    return this.count;
  }

  /** Resolves when the object is published, the deadline passes, the client leaves, or the server drains. */
  wait(object: PublishedObject, deadlineMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (this.draining) return Promise.resolve('drain');
    if (this.count >= this.options.maxHeld) {
      this.options.onWaitEnd?.('shed', 0);
      return Promise.resolve('shed');
    }
    if (signal?.aborted) return Promise.resolve('aborted');
    const id = keyOf(object);
    let entry = this.waiting.get(id);
    if (!entry) {
      entry = { object, waiters: new Set() };
      this.waiting.set(id, entry);
      this.feed.watch(object);
    }
    const waiters = entry.waiters;
    return new Promise<WaitOutcome>((resolve) => {
      const onAbort = (): void => finish('aborted');
      const finish = (outcome: WaitOutcome): void => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        this.count--;
        this.options.onHeldChange?.(this.count);
        this.options.onWaitEnd?.(outcome, (Date.now() - waiter.startedAt) / 1000);
        if (waiters.size === 0 && this.waiting.get(id)?.waiters === waiters) {
          this.waiting.delete(id);
          this.feed.unwatch(object);
        }
        resolve(outcome);
      };
      const waiter: Waiter = {
        startedAt: Date.now(),
        timer: setTimeout(() => finish('timeout'), Math.max(0, deadlineMs - Date.now())),
        resolve: finish,
      };
      waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
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
    const waiters = [...entry.waiters];
    const wake = (from: number): void => {
      for (let i = from; i < Math.min(waiters.length, from + RELEASE_BATCH); i++) waiters[i]!.resolve('published');
      if (from + RELEASE_BATCH < waiters.length) setImmediate(() => wake(from + RELEASE_BATCH));
    };
    wake(0);
  }

  /** Answers every held request now and refuses new holds (graceful shutdown). */
  drain(): void {
    this.draining = true;
    for (const entry of [...this.waiting.values()]) {
      for (const waiter of [...entry.waiters]) waiter.resolve('drain');
    }
  }
}

function keyOf(object: PublishedObject): string {
  return `${object.event}\n${object.path}`;
}
