/**
 * Per-event request budget (token bucket, refilled continuously). The last share of the
 * bucket is kept for requests at the live edge, so requests for older segments are shed first.
 */
export const LIVE_EDGE_RESERVE = 0.2;
/** Segments within this distance of the newest published number count as the live edge. */
export const LIVE_EDGE_SEGMENTS = 3;
const MAX_TRACKED_EVENTS = 10_000;

export class RateBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `perSecond` of 0 disables the budget. Bursts up to one second's worth. */
  constructor(private readonly perSecond: number) {}

  /** Takes one token for a request; false means shed it. */
  take(event: string, atLiveEdge: boolean, nowMs: number): boolean {
    if (this.perSecond <= 0) return true;
    let bucket = this.buckets.get(event);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED_EVENTS) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: this.perSecond, at: nowMs };
      this.buckets.set(event, bucket);
    }
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((nowMs - bucket.at) / 1000) * this.perSecond);
    bucket.at = nowMs;
    const floor = atLiveEdge ? 0 : this.perSecond * LIVE_EDGE_RESERVE;
    if (bucket.tokens - 1 < floor) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** Whether a request for segment `n` is at the live edge of an event whose newest number is `edge`. */
export function isAtLiveEdge(n: number | undefined, edge: number | undefined): boolean {
  return n === undefined || edge === undefined || n >= edge - LIVE_EDGE_SEGMENTS;
}
