import type { MissingVerdict, Timeline } from './timing.js';
import { dueMs, judgeMissing } from './timing.js';

/**
 * Timing of LL-HLS parts. A part of segment n belongs to segment n's window, with one change:
 * players ask for the first part of segment n (the preload hint) while segment n - 1 is still
 * being cut, a little before segment n's own hold window opens. So a part is held from one
 * segment duration earlier than its segment; everything else (deadline, 410) is its segment's.
 */
export function judgeMissingPart(timeline: Timeline, n: number, nowMs: number): MissingVerdict {
  const windowStart = dueMs(timeline, n) - 2 * timeline.durationMs;
  if (nowMs < windowStart) return { kind: 'future', ttlMs: windowStart - nowMs };
  const verdict = judgeMissing(timeline, n, nowMs);
  return verdict.kind === 'future' ? { kind: 'hold', deadlineMs: dueMs(timeline, n) + timeline.holdGraceMs } : verdict;
}

/**
 * RFC 8216bis has packagers drop parts from the playlist once they are more than three target
 * durations from its end; after that players fetch the whole segment. A CDN need not keep a
 * part longer than that.
 */
export const PART_LIFETIME_SEGMENTS = 3;

export function partTtlMs(segmentDurationMs: number): number {
  return PART_LIFETIME_SEGMENTS * segmentDurationMs;
}
