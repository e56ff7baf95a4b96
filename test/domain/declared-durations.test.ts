import { describe, expect, it } from 'vitest';
import { DECLARED_CHANGE_RATIO, declarationsToRecord } from '../../runtime/domain/declared-durations.js';
import type { RenditionState } from '../../runtime/domain/model.js';
import type { Listing } from '../../runtime/domain/playlist-listing.js';

const listing = (declaredMs?: number): Listing => ({
  ended: false,
  renditions: new Map([['v/seg_{n}.m4s', { rendition: 'v/seg_{n}.m4s', first: 1, last: 3, ...(declaredMs === undefined ? {} : { declaredMs }) }]]),
});

const known = (extra: Partial<RenditionState>): Record<string, RenditionState> => ({
  'v/seg_{n}.m4s': { rendition: 'v/seg_{n}.m4s', width: 0, recent: [[3, 6_000]], ...extra },
});

describe('declarationsToRecord', () => {
  it('declares a rendition no playlist declared yet, with the playlist path', () => {
    expect(declarationsToRecord(known({}), 'v/index.m3u8', listing(2_000))).toEqual([
      { rendition: 'v/seg_{n}.m4s', playlist: 'v/index.m3u8', declaredMs: 2_000 },
    ]);
    expect(declarationsToRecord({}, 'v/index.m3u8', listing())).toEqual([{ rendition: 'v/seg_{n}.m4s', playlist: 'v/index.m3u8' }]);
  });

  it('writes nothing while the declaration stays within DECLARED_CHANGE_RATIO', () => {
    const stored = known({ playlist: 'v/index.m3u8', declaredMs: 2_000 });
    expect(declarationsToRecord(stored, 'v/index.m3u8', listing(2_000 * (1 + DECLARED_CHANGE_RATIO)))).toEqual([]);
    expect(declarationsToRecord(stored, 'v/index.m3u8', listing(2_000 * (1 - DECLARED_CHANGE_RATIO)))).toEqual([]);
  });

  it('rewrites a declaration that moved further, or that a playlist gave or took away', () => {
    expect(declarationsToRecord(known({ playlist: 'v/index.m3u8', declaredMs: 2_000 }), 'v/index.m3u8', listing(4_000))).toHaveLength(1);
    expect(declarationsToRecord(known({ playlist: 'v/index.m3u8' }), 'v/index.m3u8', listing(2_000))).toHaveLength(1);
    expect(declarationsToRecord(known({ playlist: 'v/index.m3u8', declaredMs: 2_000 }), 'v/index.m3u8', listing())).toEqual([
      { rendition: 'v/seg_{n}.m4s', playlist: 'v/index.m3u8' },
    ]);
  });

  it('keeps the first playlist while another one over the same segments agrees (HLS and DASH from one packager)', () => {
    expect(declarationsToRecord(known({ playlist: 'v/index.m3u8', declaredMs: 2_000 }), 'manifest.mpd', listing(2_000))).toEqual([]);
  });
});
