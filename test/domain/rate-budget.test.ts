import { describe, expect, it } from 'vitest';
import { isAtLiveEdge, LIVE_EDGE_RESERVE, LIVE_EDGE_SEGMENTS, RateBudget } from '../../runtime/domain/rate-budget.js';

/** Takes tokens until the first refusal; returns how many were granted. */
function drain(budget: RateBudget, event: string, atLiveEdge: boolean, nowMs: number, max = 1_000): number {
  let granted = 0;
  while (granted < max && budget.take(event, atLiveEdge, nowMs)) granted++;
  return granted;
}

describe('RateBudget', () => {
  it('grants a full second of live-edge requests in a burst', () => {
    expect(drain(new RateBudget(10), 'news', true, 0)).toBe(10);
  });

  it('keeps the live-edge reserve from behind-edge requests', () => {
    expect(drain(new RateBudget(10), 'news', false, 0)).toBe(10 * (1 - LIVE_EDGE_RESERVE));
  });

  it('sheds behind-edge requests while live-edge ones still pass', () => {
    const budget = new RateBudget(10);
    drain(budget, 'news', false, 0);
    expect([budget.take('news', false, 0), budget.take('news', true, 0)]).toEqual([false, true]);
  });

  it('sheds live-edge requests once the reserve is spent too', () => {
    const budget = new RateBudget(10);
    drain(budget, 'news', false, 0);
    expect(drain(budget, 'news', true, 0)).toBe(2);
  });

  it('refills continuously with time', () => {
    const budget = new RateBudget(10);
    drain(budget, 'news', true, 0);
    expect([budget.take('news', true, 99), budget.take('news', true, 250)]).toEqual([false, true]);
  });

  it('refills no more than one second of tokens', () => {
    const budget = new RateBudget(10);
    drain(budget, 'news', true, 0);
    expect(drain(budget, 'news', true, 60_000)).toBe(10);
  });

  it('keeps one budget per event', () => {
    const budget = new RateBudget(10);
    drain(budget, 'news', true, 0);
    expect(budget.take('sport', true, 0)).toBe(true);
  });

  it('grants everything when disabled with 0', () => {
    expect(drain(new RateBudget(0), 'news', false, 0, 500)).toBe(500);
  });
});

describe('isAtLiveEdge', () => {
  it('counts the newest number as the live edge', () => {
    expect(isAtLiveEdge(100, 100)).toBe(true);
  });

  it('counts numbers ahead of the edge as the live edge', () => {
    expect(isAtLiveEdge(101, 100)).toBe(true);
  });

  it(`counts ${LIVE_EDGE_SEGMENTS} segments behind the edge as the live edge`, () => {
    expect(isAtLiveEdge(100 - LIVE_EDGE_SEGMENTS, 100)).toBe(true);
  });

  it('counts one more segment behind as behind the edge', () => {
    expect(isAtLiveEdge(100 - LIVE_EDGE_SEGMENTS - 1, 100)).toBe(false);
  });

  it('counts an unnumbered object (playlist, init) as the live edge', () => {
    expect(isAtLiveEdge(undefined, 100)).toBe(true);
  });

  it('counts any segment as the live edge before any edge is known', () => {
    expect(isAtLiveEdge(1, undefined)).toBe(true);
  });
});
