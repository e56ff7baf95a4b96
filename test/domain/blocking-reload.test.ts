import { describe, expect, it } from 'vitest';
import {
  advancePartLimit,
  blockingAnswerTtlMs,
  blockTimeoutMs,
  judgeReload,
  parseReloadDirectives,
  parseReloadQuery,
  playlistStallsAt,
} from '../../runtime/domain/blocking-reload.js';
import type { MediaPlaylistEdge } from '../../runtime/domain/ll-hls-playlist.js';

const badRequest = expect.objectContaining({ code: 'bad_request' });

describe('parseReloadDirectives', () => {
  it('returns nothing for an ordinary request, whatever other parameters it has', () => {
    expect(parseReloadDirectives({})).toBeUndefined();
    expect(parseReloadDirectives({ token: 'x', _HLS_skip: 'YES' })).toBeUndefined();
  });

  it('reads _HLS_msn alone and with _HLS_part and _HLS_skip', () => {
    expect(parseReloadDirectives({ _HLS_msn: '273' })).toEqual({ msn: 273 });
    expect(parseReloadDirectives({ _HLS_msn: '273', _HLS_part: '0', _HLS_skip: 'v2', other: '1' })).toEqual({ msn: 273, part: 0, skip: 'v2' });
  });

  it('refuses _HLS_part without _HLS_msn', () => {
    expect(() => parseReloadDirectives({ _HLS_part: '2' })).toThrow(badRequest);
  });

  it.each([['-1'], ['1.5'], [''], ['0x10'], ['1234567890123456'], [' 3']])('refuses _HLS_msn=%j', (value) => {
    expect(() => parseReloadDirectives({ _HLS_msn: value })).toThrow(badRequest);
  });

  it('refuses a bad _HLS_part, a repeated directive and an unknown _HLS_skip', () => {
    expect(() => parseReloadDirectives({ _HLS_msn: '1', _HLS_part: 'a' })).toThrow(badRequest);
    expect(() => parseReloadDirectives({ _HLS_msn: ['1', '2'] })).toThrow(badRequest);
    expect(() => parseReloadDirectives({ _HLS_msn: '1', _HLS_skip: 'NO' })).toThrow(badRequest);
    expect(() => parseReloadDirectives({ _HLS_skip: 'maybe' })).toThrow(badRequest);
  });
});

const edge = (overrides: Partial<MediaPlaylistEdge> = {}): MediaPlaylistEdge => ({
  targetDurationMs: 2000,
  partTargetMs: 500,
  mediaSequence: 100,
  lastMsn: 272,
  trailingParts: 2,
  lastSegmentParts: 4,
  canBlockReload: true,
  ended: false,
  ...overrides,
});

describe('judgeReload', () => {
  it('is satisfied by a whole segment at or after the one asked for', () => {
    expect(judgeReload(edge(), { msn: 272 }).kind).toBe('satisfied');
    expect(judgeReload(edge(), { msn: 200 }).kind).toBe('satisfied');
    expect(judgeReload(edge(), { msn: 272, part: 9 }).kind).toBe('satisfied');
  });

  it('holds for the segment in progress, even when some of its parts are there', () => {
    expect(judgeReload(edge(), { msn: 273 }).kind).toBe('hold');
  });

  it('is satisfied by a part of the segment in progress, and holds for the next part', () => {
    expect(judgeReload(edge(), { msn: 273, part: 1 }).kind).toBe('satisfied');
    expect(judgeReload(edge(), { msn: 273, part: 2 }).kind).toBe('hold');
  });

  it('holds up to two segments ahead, and refuses three', () => {
    expect(judgeReload(edge(), { msn: 274 }).kind).toBe('hold');
    expect(judgeReload(edge(), { msn: 275 })).toMatchObject({ kind: 'too_far' });
  });

  it('refuses a part beyond the advance part limit of the segment in progress', () => {
    // 0.5 s parts: the limit is 6 parts beyond the last (part 1).
    expect(judgeReload(edge(), { msn: 273, part: 7 }).kind).toBe('hold');
    expect(judgeReload(edge(), { msn: 273, part: 8 })).toMatchObject({ kind: 'too_far' });
  });

  it('counts the advance part limit across the boundary into the segment after the one in progress', () => {
    // Last part: 273.1; segments have 4 parts, so 273.2 and 273.3 are still to come. With 0.5 s
    // parts the limit is 6: 274.3 is 6 parts ahead, 274.4 is 7.
    expect(judgeReload(edge(), { msn: 274, part: 3 }).kind).toBe('hold');
    expect(judgeReload(edge(), { msn: 274, part: 4 })).toMatchObject({ kind: 'too_far' });
    // Without a whole segment's part count to go by, nothing is refused on a guess.
    expect(judgeReload(edge({ lastSegmentParts: 0 }), { msn: 274, part: 20 }).kind).toBe('hold');
  });

  it('answers at once from a playlist that has ended', () => {
    expect(judgeReload(edge({ ended: true }), { msn: 274 }).kind).toBe('satisfied');
  });
});

describe('limits and lifetimes', () => {
  it('uses three parts, or three seconds of parts shorter than a second', () => {
    expect(advancePartLimit(undefined)).toBe(3);
    expect(advancePartLimit(1000)).toBe(3);
    expect(advancePartLimit(2000)).toBe(3);
    expect(advancePartLimit(500)).toBe(6);
    expect(advancePartLimit(333)).toBe(9);
  });

  it('holds three target durations and caches an answer for six', () => {
    expect(blockTimeoutMs(2000)).toBe(6000);
    expect(blockingAnswerTtlMs(2000)).toBe(12000);
  });
});

describe('parseReloadQuery', () => {
  it('reads the directives of a raw query string and ignores the rest', () => {
    expect(parseReloadQuery('')).toBeUndefined();
    expect(parseReloadQuery('token=abc')).toBeUndefined();
    expect(parseReloadQuery('a=1&_HLS_part=2&_HLS_msn=273')).toEqual({ msn: 273, part: 2 });
  });

  it('refuses a directive given twice and a part without a segment', () => {
    expect(() => parseReloadQuery('_HLS_msn=1&_HLS_msn=2')).toThrow(badRequest);
    expect(() => parseReloadQuery('_HLS_part=2')).toThrow(badRequest);
  });
});

describe('playlistStallsAt', () => {
  it('is two part targets after the playlist was published, and never for a playlist without parts', () => {
    expect(playlistStallsAt(10_000, 500)).toBe(11_000);
    expect(playlistStallsAt(10_000, undefined)).toBeUndefined();
  });
});
