import type { ObjectPath } from './object-path.js';
import { renditionPath } from './object-path.js';
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

/**
 * How long a GET for the next part is held when the event has no timeline yet (no template, and
 * too few segments seen to infer the cadence): three part targets of a typical LL-HLS stream
 * (PART-TARGET 1 s or less), the same bound as a blocking playlist reload.
 */
export const PART_HOLD_WITHOUT_TIMELINE_MS = 3_000;

/**
 * The part published just before `object` by a packager that names parts `<msn>.<part>`: part
 * p - 1 of the same segment, or for part 0, part 0 of the previous segment (the last part's
 * index is not known from a name). Once that one exists, `object` is the next part, the one the
 * playlist's EXT-X-PRELOAD-HINT names. Undefined when the name does not carry the part index
 * (parts numbered by the Live-Part header) or there is nothing before it.
 */
export function precedingPartPath(object: ObjectPath): string | undefined {
  const { part, number, rendition, width } = object;
  if (part === undefined || number === undefined || rendition === undefined) return undefined;
  const match = /\{n\}\.(\d+)/.exec(rendition);
  if (!match || Number(match[1]) !== part) return undefined;
  if (part > 0) {
    const digits = match[1]!;
    const previous = String(part - 1).padStart(digits.startsWith('0') ? digits.length : 0, '0');
    return renditionPath(rendition.replace(match[0], `{n}.${previous}`), number, width ?? 0);
  }
  return number > 0 ? renditionPath(rendition, number - 1, width ?? 0) : undefined;
}
