import { decodeCmsdDynamic, decodeCmsdStatic } from '@svta/cml-cmsd';
import { describe, expect, it } from 'vitest';
import { cmsdDynamic, cmsdStatic, DURESS_LINGER_MS, DuressWindow, nextObjectRequest, objectType, streamingFormat } from '../../runtime/domain/cmsd.js';
import { parseObjectPath } from '../../runtime/domain/object-path.js';

const o = (path: string) => parseObjectPath(path);

describe('objectType', () => {
  it.each([
    ['v/index.m3u8', 'm'],
    ['manifest.mpd', 'm'],
    ['v/init.mp4', 'i'],
    ['audio/en/seg_3.m4s', 'a'],
    ['a/seg_3.aac', 'a'],
    ['video/720p/seg_3.m4s', 'v'],
    ['v/seg_3.cmfv', 'v'],
    ['hls/seg_3.ts', 'av'],
    ['subs/seg_3.vtt', 'c'],
    ['keys/k.key', 'k'],
    ['poster.jpg', 'o'],
  ])('%s is %s', (path, type) => {
    expect(objectType(o(path))).toBe(type);
  });

  it('names no type for numbered media whose name says nothing of its content', () => {
    expect(objectType(o('v/seg_3.m4s'))).toBeUndefined();
  });
});

describe('streamingFormat', () => {
  it('is h for playlists, parts and MPEG-TS, d for manifests, unknown for CMAF segments', () => {
    expect(streamingFormat(o('v/index.m3u8'))).toBe('h');
    expect(streamingFormat(o('v/filePart3.1.mp4'))).toBe('h');
    expect(streamingFormat(o('v/seg_3.ts'))).toBe('h');
    expect(streamingFormat(o('manifest.mpd'))).toBe('d');
    expect(streamingFormat(o('v/seg_3.m4s'))).toBeUndefined();
  });
});

describe('nextObjectRequest', () => {
  it('names the next segment relative to this one, keeping the padding', () => {
    expect(nextObjectRequest(o('video/720p/seg_0099.m4s'))).toBe('seg_0100.m4s');
  });

  it('names the next part of the same segment', () => {
    expect(nextObjectRequest(o('v/filePart273.3.mp4'))).toBe('filePart273.4.mp4');
  });

  it('names nothing for playlists, init segments and parts numbered by headers only', () => {
    expect(nextObjectRequest(o('v/index.m3u8'))).toBeUndefined();
    expect(nextObjectRequest(o('v/init.mp4'))).toBeUndefined();
    expect(nextObjectRequest(parseObjectPath('v/chunk.m4s', { segment: 4, part: 1 }))).toBeUndefined();
  });
});

describe('cmsdStatic', () => {
  it('describes a segment: type, live, duration, next object, availability and hold time', () => {
    const header = cmsdStatic({ object: o('audio/seg_10.m4s'), segmentDurationMs: 2000, availableAt: 1_700_000_000_123, heldMs: 42 });
    expect(decodeCmsdStatic(header)).toEqual({ ot: 'a', st: 'l', d: 2000, nor: 'seg_11.m4s', at: 1_700_000_000_123, ht: 42 });
  });

  it('gives a part no segment duration and a playlist no next object', () => {
    expect(decodeCmsdStatic(cmsdStatic({ object: o('v/filePart5.0.mp4'), segmentDurationMs: 2000 }))).toEqual({
      st: 'l',
      sf: 'h',
      nor: 'filePart5.1.mp4',
    });
    expect(decodeCmsdStatic(cmsdStatic({ object: o('v/index.m3u8'), heldMs: 0 }))).toEqual({ ot: 'm', st: 'l', sf: 'h' });
  });
});

describe('cmsdDynamic and duress', () => {
  it("says du under this origin's name while shedding, nothing otherwise", () => {
    expect(cmsdDynamic(false)).toBeUndefined();
    expect(decodeCmsdDynamic(cmsdDynamic(true)!)).toEqual([{ value: 'live-origin', params: { du: true } }]);
  });

  it('stays under duress for a while after the last shed request', () => {
    const window = new DuressWindow();
    expect(window.active(1000)).toBe(false);
    window.mark(1000);
    expect(window.active(1000 + DURESS_LINGER_MS)).toBe(true);
    expect(window.active(1001 + DURESS_LINGER_MS)).toBe(false);
  });
});
