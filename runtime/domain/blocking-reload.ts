import { badRequest } from './errors.js';
import type { MediaPlaylistEdge } from './ll-hls-playlist.js';

/**
 * LL-HLS blocking playlist reload (RFC 8216bis 6.2.5.2): the delivery directives `_HLS_msn`,
 * `_HLS_part` and `_HLS_skip`, and what a held playlist request gets.
 */

export interface ReloadDirectives {
  readonly msn: number;
  readonly part?: number;
  /** `_HLS_skip` (YES or v2): accepted; the origin answers with the full playlist, as it may. */
  readonly skip?: string;
}

const DECIMAL = /^\d{1,15}$/;
const SKIP_VALUES = ['YES', 'v2'];
/** The RFC's hold limit: three target durations, then 503. */
export const BLOCK_TIMEOUT_TARGETS = 3;
/** How far ahead a request may ask: `_HLS_msn` at most two beyond the last segment. */
export const MAX_MSN_AHEAD = 2;
/**
 * Lifetime of a blocking answer: its URL names what it holds, so it cannot go wrong; Apple's
 * LL-HLS CDN guidance is six target durations.
 */
export const BLOCKING_ANSWER_TARGETS = 6;

function single(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} must appear once`);
  return value;
}

/**
 * The directives of a playlist request's query, or undefined for an ordinary request. Other
 * parameters are ignored. 400 for `_HLS_part` without `_HLS_msn` and for values that are not
 * decimal integers.
 */
export function parseReloadDirectives(query: Readonly<Record<string, unknown>>): ReloadDirectives | undefined {
  const msn = single(query, '_HLS_msn');
  const part = single(query, '_HLS_part');
  const skip = single(query, '_HLS_skip');
  if (msn === undefined) {
    if (part !== undefined) throw badRequest('_HLS_part needs _HLS_msn');
    if (skip !== undefined && !SKIP_VALUES.includes(skip)) throw badRequest('_HLS_skip must be YES or v2');
    return undefined;
  }
  if (!DECIMAL.test(msn)) throw badRequest('_HLS_msn must be a decimal integer');
  if (part !== undefined && !DECIMAL.test(part)) throw badRequest('_HLS_part must be a decimal integer');
  if (skip !== undefined && !SKIP_VALUES.includes(skip)) throw badRequest('_HLS_skip must be YES or v2');
  const directives: ReloadDirectives = { msn: Number(msn), part: part === undefined ? undefined : Number(part), skip };
  return Object.fromEntries(Object.entries(directives).filter(([, v]) => v !== undefined)) as unknown as ReloadDirectives;
}

/** The directives of a raw query string (without `?`); a parameter given twice is kept as a list (and refused). */
export function parseReloadQuery(rawQuery: string): ReloadDirectives | undefined {
  if (rawQuery === '' || !rawQuery.includes('_HLS_')) return undefined;
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return parseReloadDirectives(query);
}

export type ReloadVerdict =
  /** The playlist holds what was asked for (or will never change): answer with it. */
  | { readonly kind: 'satisfied' }
  /** Hold until the served playlist changes, then judge again. */
  | { readonly kind: 'hold' }
  /** Asked too far ahead: 400 at once. */
  | { readonly kind: 'too_far'; readonly reason: string };

/**
 * The Advance Part Limit: a request may ask at most this many parts beyond the last one
 * (three, or three seconds' worth when parts are shorter than a second).
 */
export function advancePartLimit(partTargetMs: number | undefined): number {
  if (partTargetMs === undefined || partTargetMs >= 1000) return 3;
  return Math.floor(3000 / Math.max(1, partTargetMs));
}

/**
 * How many parts beyond the playlist's last part part `part` of segment `msn` lies, or undefined
 * when that is not a question (the segment is whole) or cannot be told. The RFC counts the limit
 * from the last part, across a segment boundary: for the segment after the one in progress, the
 * parts still to come in the current one count too, taken as many as the last whole segment had.
 */
function partsAhead(playlist: MediaPlaylistEdge, msn: number, part: number): number | undefined {
  const lastPart = playlist.trailingParts - 1;
  if (msn === playlist.lastMsn + 1) return part - lastPart;
  if (msn === playlist.lastMsn + 2 && playlist.lastSegmentParts > 0) {
    const stillToCome = Math.max(0, playlist.lastSegmentParts - 1 - lastPart);
    return stillToCome + part + 1;
  }
  return undefined;
}

/**
 * Whether the playlist satisfies the directives. Segment M is there once it is whole (its parts
 * and any later part included); part N of M is there when M is whole, or when M is the segment
 * in progress and has more than N parts.
 */
export function judgeReload(playlist: MediaPlaylistEdge, directives: ReloadDirectives): ReloadVerdict {
  const { msn, part } = directives;
  if (msn > playlist.lastMsn + MAX_MSN_AHEAD) {
    return { kind: 'too_far', reason: `_HLS_msn ${msn} is more than ${MAX_MSN_AHEAD} beyond the last segment (${playlist.lastMsn})` };
  }
  if (part !== undefined) {
    const ahead = partsAhead(playlist, msn, part);
    if (ahead !== undefined && ahead > advancePartLimit(playlist.partTargetMs)) {
      return { kind: 'too_far', reason: `_HLS_part ${part} is beyond the advance part limit` };
    }
  }
  if (playlist.ended || msn <= playlist.lastMsn) return { kind: 'satisfied' };
  if (part !== undefined && msn === playlist.lastMsn + 1 && part < playlist.trailingParts) return { kind: 'satisfied' };
  return { kind: 'hold' };
}

/**
 * A playlist with parts that has not changed for this many part targets has stopped: the RFC's
 * smallest PART-HOLD-BACK is two part targets, so a player waiting on it longer runs dry
 * (hls.js gives a held reload up to three part targets). A blocking reload then follows another
 * pipeline whose playlist has what it asks for, well before the one-target-duration rule.
 */
export const STALLED_PART_TARGETS = 2;

/** When a playlist published at `publishedAt` counts as stalled (undefined without parts). */
export function playlistStallsAt(publishedAt: number, partTargetMs: number | undefined): number | undefined {
  return partTargetMs === undefined ? undefined : publishedAt + STALLED_PART_TARGETS * partTargetMs;
}

/** The longest a blocking request is held before it gets 503 (three target durations). */
export function blockTimeoutMs(targetDurationMs: number): number {
  return BLOCK_TIMEOUT_TARGETS * targetDurationMs;
}

export function blockingAnswerTtlMs(targetDurationMs: number): number {
  return BLOCKING_ANSWER_TARGETS * targetDurationMs;
}
