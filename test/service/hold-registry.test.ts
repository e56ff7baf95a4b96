import { describe, expect, it } from 'vitest';
import { LocalPublishFeed } from '../../runtime/adapters/local-publish-feed.js';
import type { PublishedObject, PublishFeed, PublishListener } from '../../runtime/ports/publish-feed.js';
import { HoldRegistry, type HoldRegistryOptions, type LeaveWatch, RELEASE_BATCH, type WaitOutcome } from '../../runtime/service/hold-registry.js';
import { ManualClock } from '../support/manual-clock.js';

/** The local feed, recording which objects the registry watches. */
class RecordingFeed implements PublishFeed {
  readonly watched: string[] = [];
  readonly unwatched: string[] = [];
  private readonly local = new LocalPublishFeed();

  announce(object: PublishedObject): void {
    this.local.announce(object);
  }

  watch(object: PublishedObject): void {
    this.watched.push(`${object.event}/${object.path}`);
  }

  unwatch(object: PublishedObject): void {
    this.unwatched.push(`${object.event}/${object.path}`);
  }

  subscribe(listener: PublishListener): void {
    this.local.subscribe(listener);
  }

  streamStarted(): void {}

  streamEnded(): void {}

  arriving() {
    return [];
  }

  close(): Promise<void> {
    return this.local.close();
  }
}

const SEG_1 = { event: 'news', path: 'video/seg_1.m4s' };
const SEG_2 = { event: 'news', path: 'video/seg_2.m4s' };
/** Fake time: deadlines pass only when a test advances it. */
let clock = new ManualClock();
/** Far enough away that no test reaches it unless it means to. */
const LATER = (): number => clock.now() + 5_000;

function setup(options: Partial<HoldRegistryOptions> = {}) {
  clock = new ManualClock();
  const feed = new RecordingFeed();
  const heldChanges: number[] = [];
  const waitEnds: [WaitOutcome, number][] = [];
  const registry = new HoldRegistry(feed, clock, {
    maxHeld: 100,
    onHeldChange: (held) => heldChanges.push(held),
    onWaitEnd: (outcome, seconds) => waitEnds.push([outcome, seconds]),
    ...options,
  });
  return { feed, registry, heldChanges, waitEnds };
}

describe('HoldRegistry: release', () => {
  it('answers a held request when the object is announced on the feed', async () => {
    const { feed, registry } = setup();
    const outcome = registry.wait(SEG_1, LATER());
    feed.announce(SEG_1);
    await expect(outcome).resolves.toBe('published');
  });

  it('answers a held request on a direct release', async () => {
    const { registry } = setup();
    const outcome = registry.wait(SEG_1, LATER());
    registry.release(SEG_1);
    await expect(outcome).resolves.toBe('published');
  });

  it('wakes every request waiting for the object', async () => {
    const { feed, registry } = setup();
    const outcomes = Promise.all([registry.wait(SEG_1, LATER()), registry.wait(SEG_1, LATER())]);
    feed.announce(SEG_1);
    await expect(outcomes).resolves.toEqual(['published', 'published']);
  });

  it('wakes a crowd one batch per turn of the event loop, so the first answers need not wait for the rest', async () => {
    const { registry } = setup({ maxHeld: 1_000 });
    const woken: number[] = [];
    const waits = Array.from({ length: RELEASE_BATCH * 2 + 1 }, (_, i) => registry.wait(SEG_1, LATER()).then(() => woken.push(i)));
    registry.release(SEG_1);
    await Promise.resolve();
    await Promise.resolve();
    expect(woken).toEqual(Array.from({ length: RELEASE_BATCH }, (_, i) => i));
    await Promise.all(waits);
    expect(woken).toHaveLength(RELEASE_BATCH * 2 + 1);
    expect(registry.held).toBe(0);
  });

  it('does not wake requests for another path', () => {
    const { feed, registry } = setup();
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_2, LATER());
    feed.announce(SEG_2);
    expect(registry.held).toBe(1);
    registry.drain();
  });

  it('does not wake requests for the same path of another event', () => {
    const { feed, registry } = setup();
    void registry.wait(SEG_1, LATER());
    feed.announce({ event: 'sport', path: SEG_1.path });
    expect(registry.held).toBe(1);
    registry.drain();
  });

  it('ignores a publish nobody waits for', () => {
    const { feed, registry, heldChanges } = setup();
    feed.announce(SEG_1);
    expect([registry.held, heldChanges]).toEqual([0, []]);
  });

  it('reports a published wait once, even after its deadline passes', async () => {
    const { feed, registry, waitEnds } = setup();
    const outcome = registry.wait(SEG_1, clock.now() + 20);
    feed.announce(SEG_1);
    await outcome;
    await clock.advance(40);
    expect(waitEnds.map(([o]) => o)).toEqual(['published']);
    expect(clock.timers).toBe(0);
  });
});

describe('HoldRegistry: timeout and abort', () => {
  it('answers timeout at the deadline, not a millisecond before', async () => {
    const { registry } = setup();
    let outcome: WaitOutcome | undefined;
    void registry.wait(SEG_1, clock.now() + 30).then((o) => {
      outcome = o;
    });
    await clock.advance(29);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toBe('timeout');
  });

  it('answers timeout at once for a deadline already past', async () => {
    const { registry } = setup();
    const outcome = registry.wait(SEG_1, clock.now() - 1_000);
    await clock.advance(0);
    await expect(outcome).resolves.toBe('timeout');
  });

  it('reports how long a timed-out wait lasted, in seconds', async () => {
    const { registry, waitEnds } = setup();
    const outcome = registry.wait(SEG_1, clock.now() + 30);
    await clock.advance(30);
    await outcome;
    expect(waitEnds).toEqual([['timeout', 0.03]]);
  });

  it('answers aborted when the client leaves', async () => {
    const { registry } = setup();
    const controller = new AbortController();
    const outcome = registry.wait(SEG_1, LATER(), leaveOn(controller.signal));
    controller.abort();
    await expect(outcome).resolves.toBe('aborted');
  });

  it('frees the slot of an aborted wait', async () => {
    const { registry } = setup();
    const controller = new AbortController();
    const outcome = registry.wait(SEG_1, LATER(), leaveOn(controller.signal));
    controller.abort();
    await outcome;
    expect(registry.held).toBe(0);
  });

  it('does not hold a request whose client already left', async () => {
    const { feed, registry, heldChanges } = setup();
    await expect(registry.wait(SEG_1, LATER(), leaveOn(AbortSignal.abort()))).resolves.toBe('aborted');
    expect([registry.held, heldChanges, feed.watched]).toEqual([0, [], []]);
  });

  it('stops watching the client once the wait ends', async () => {
    const { feed, registry } = setup();
    const controller = new AbortController();
    let watching = 0;
    const watch: LeaveWatch = (onLeave) => {
      const unwatch = leaveOn(controller.signal)(onLeave);
      watching++;
      return () => {
        watching--;
        unwatch?.();
      };
    };
    const outcome = registry.wait(SEG_1, LATER(), watch);
    expect(watching).toBe(1);
    feed.announce(SEG_1);
    await expect(outcome).resolves.toBe('published');
    expect(watching).toBe(0);
  });

  it('times out every waiter of one object and deadline together, and each deadline on its own', async () => {
    const { registry } = setup();
    const soon = clock.now() + 20;
    const early = Promise.all([registry.wait(SEG_1, soon), registry.wait(SEG_1, soon)]);
    const later = registry.wait(SEG_1, soon + 60);
    expect(clock.timers).toBe(2);
    await clock.advance(20);
    await expect(early).resolves.toEqual(['timeout', 'timeout']);
    expect(registry.held).toBe(1);
    await clock.advance(59);
    expect(registry.held).toBe(1);
    await clock.advance(1);
    await expect(later).resolves.toBe('timeout');
    expect(registry.held).toBe(0);
    expect(clock.timers).toBe(0);
  });

  it('ignores an abort after the publish', async () => {
    const { feed, registry, heldChanges } = setup();
    const controller = new AbortController();
    const outcome = registry.wait(SEG_1, LATER(), leaveOn(controller.signal));
    feed.announce(SEG_1);
    controller.abort();
    await expect(outcome).resolves.toBe('published');
    expect(heldChanges).toEqual([1, 0]);
  });
});

describe('HoldRegistry: limits and drain', () => {
  it('sheds a wait beyond maxHeld', async () => {
    const { registry } = setup({ maxHeld: 2 });
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_2, LATER());
    await expect(registry.wait(SEG_1, LATER())).resolves.toBe('shed');
    registry.drain();
  });

  it('does not count a shed wait as held', async () => {
    const { registry } = setup({ maxHeld: 1 });
    void registry.wait(SEG_1, LATER());
    await registry.wait(SEG_2, LATER());
    expect(registry.held).toBe(1);
    registry.drain();
  });

  it('reports a shed wait as ending at once', async () => {
    const { registry, waitEnds } = setup({ maxHeld: 0 });
    await registry.wait(SEG_1, LATER());
    expect(waitEnds).toEqual([['shed', 0]]);
  });

  it('accepts a wait again once a slot frees', async () => {
    const { feed, registry } = setup({ maxHeld: 1 });
    const first = registry.wait(SEG_1, LATER());
    feed.announce(SEG_1);
    await first;
    const second = registry.wait(SEG_2, LATER());
    feed.announce(SEG_2);
    await expect(second).resolves.toBe('published');
  });

  it('answers every held request with drain', async () => {
    const { registry } = setup();
    const outcomes = Promise.all([registry.wait(SEG_1, LATER()), registry.wait(SEG_2, LATER())]);
    registry.drain();
    await expect(outcomes).resolves.toEqual(['drain', 'drain']);
  });

  it('refuses new holds after drain, without watching', async () => {
    const { feed, registry } = setup();
    registry.drain();
    await expect(registry.wait(SEG_1, LATER())).resolves.toBe('drain');
    expect([registry.held, feed.watched]).toEqual([0, []]);
  });
});

describe('HoldRegistry: held count', () => {
  it('counts held requests', () => {
    const { registry } = setup();
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_2, LATER());
    expect(registry.held).toBe(3);
    registry.drain();
  });

  it('reports every change of the held count', async () => {
    const { feed, registry, heldChanges } = setup();
    const a = registry.wait(SEG_1, LATER());
    const b = registry.wait(SEG_2, LATER());
    feed.announce(SEG_1);
    await a;
    feed.announce(SEG_2);
    await b;
    expect(heldChanges).toEqual([1, 2, 1, 0]);
  });
});

describe('HoldRegistry: watches', () => {
  it('watches an awaited object once, however many requests wait for it', () => {
    const { feed, registry } = setup();
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_1, LATER());
    expect(feed.watched).toEqual(['news/video/seg_1.m4s']);
    registry.drain();
  });

  it('watches each awaited object', () => {
    const { feed, registry } = setup();
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_2, LATER());
    expect(feed.watched).toEqual(['news/video/seg_1.m4s', 'news/video/seg_2.m4s']);
    registry.drain();
  });

  it('keeps watching while one waiter remains', async () => {
    const { feed, registry } = setup();
    const controller = new AbortController();
    const leaving = registry.wait(SEG_1, LATER(), leaveOn(controller.signal));
    void registry.wait(SEG_1, LATER());
    controller.abort();
    await leaving;
    expect(feed.unwatched).toEqual([]);
    registry.drain();
  });

  it('unwatches once when the last waiter ends', async () => {
    const { feed, registry } = setup();
    const outcomes = Promise.all([registry.wait(SEG_1, LATER()), registry.wait(SEG_1, LATER())]);
    feed.announce(SEG_1);
    await outcomes;
    expect(feed.unwatched).toEqual(['news/video/seg_1.m4s']);
  });

  it('unwatches after a timeout', async () => {
    const { feed, registry } = setup();
    const outcome = registry.wait(SEG_1, clock.now() + 10);
    await clock.advance(10);
    await outcome;
    expect(feed.unwatched).toEqual(['news/video/seg_1.m4s']);
  });

  it('unwatches everything on drain', () => {
    const { feed, registry } = setup();
    void registry.wait(SEG_1, LATER());
    void registry.wait(SEG_2, LATER());
    registry.drain();
    expect(feed.unwatched.sort()).toEqual(['news/video/seg_1.m4s', 'news/video/seg_2.m4s']);
  });

  it('watches again for a new wait after the object was released', async () => {
    const { feed, registry } = setup();
    const first = registry.wait(SEG_1, LATER());
    feed.announce(SEG_1);
    await first;
    void registry.wait(SEG_1, LATER());
    expect(feed.watched).toEqual(['news/video/seg_1.m4s', 'news/video/seg_1.m4s']);
    registry.drain();
  });
});

/** A leave watch driven by an AbortSignal, standing in for a client's socket closing. */
function leaveOn(signal: AbortSignal): LeaveWatch {
  return (onLeave) => {
    if (signal.aborted) return undefined;
    signal.addEventListener('abort', onLeave, { once: true });
    return () => signal.removeEventListener('abort', onLeave);
  };
}
