import { describe, expect, it } from 'vitest';
import { isPipelineId, MAX_PATH_BYTES, parseEventId, parseObjectPath, parsePipelineId, renditionPath } from '../../runtime/domain/object-path.js';

const invalid = expect.objectContaining({ name: 'OriginError', code: 'invalid_identifier' });

describe('parseEventId', () => {
  it('accepts letters, digits, dot, underscore and dash after an alphanumeric first character', () => {
    expect(parseEventId('News-1_2.3')).toBe('News-1_2.3');
  });

  it('accepts an id of exactly 128 characters', () => {
    const id = 'e'.repeat(128);
    expect(parseEventId(id)).toBe(id);
  });

  it('rejects an id of 129 characters', () => {
    expect(() => parseEventId('e'.repeat(129))).toThrow(invalid);
  });

  it('rejects an empty id', () => {
    expect(() => parseEventId('')).toThrow(invalid);
  });

  it.each(['-news', '.news', '_news'])('rejects %j, which does not start with a letter or digit', (id) => {
    expect(() => parseEventId(id)).toThrow(invalid);
  });

  it.each(['news/1', 'news 1', 'news%2F1', 'nëws'])('rejects %j, which has a character outside the set', (id) => {
    expect(() => parseEventId(id)).toThrow(invalid);
  });
});

describe('parsePipelineId', () => {
  it('accepts a lower-case id with digits and dashes', () => {
    expect(parsePipelineId('enc-a1')).toBe('enc-a1');
  });

  it('rejects an upper-case id', () => {
    expect(() => parsePipelineId('A')).toThrow(invalid);
  });

  it('rejects an id with an upper-case letter after the first', () => {
    expect(() => parsePipelineId('enc-B')).toThrow(invalid);
  });

  it('accepts an id of exactly 32 characters', () => {
    expect(parsePipelineId('p'.repeat(32))).toBe('p'.repeat(32));
  });

  it('rejects an id of 33 characters', () => {
    expect(() => parsePipelineId('p'.repeat(33))).toThrow(invalid);
  });

  it.each(['-a', 'a_b', 'a.b', ''])('rejects %j', (id) => {
    expect(() => parsePipelineId(id)).toThrow(invalid);
  });
});

describe('isPipelineId', () => {
  it('is true for a valid id', () => {
    expect(isPipelineId('a')).toBe(true);
  });

  it('is false for a non-string', () => {
    expect(isPipelineId(1)).toBe(false);
  });

  it('is false for an upper-case id', () => {
    expect(isPipelineId('A')).toBe(false);
  });
});

describe('parseObjectPath: validation', () => {
  it('accepts 8 segments', () => {
    expect(parseObjectPath('a/b/c/d/e/f/g/seg_1.m4s').number).toBe(1);
  });

  it('rejects 9 segments', () => {
    expect(() => parseObjectPath('a/b/c/d/e/f/g/h/seg_1.m4s')).toThrow(invalid);
  });

  it('accepts a path of exactly 512 bytes', () => {
    const path = 'a'.repeat(MAX_PATH_BYTES);
    expect(parseObjectPath(path).path).toBe(path);
  });

  it('rejects a path of 513 bytes', () => {
    expect(() => parseObjectPath('a'.repeat(MAX_PATH_BYTES + 1))).toThrow(invalid);
  });

  it.each(['..', 'video/../secret.m4s', '.', 'video/./seg_1.m4s'])('rejects the dot segment path %j', (path) => {
    expect(() => parseObjectPath(path)).toThrow(invalid);
  });

  it('accepts segments made only of dots when there are three or more', () => {
    expect(parseObjectPath('.../seg.m4s').path).toBe('.../seg.m4s');
  });

  it('rejects an empty path', () => {
    expect(() => parseObjectPath('')).toThrow(invalid);
  });

  it.each(['/seg_1.m4s', 'video/', 'video//seg_1.m4s'])('rejects the empty segment in %j', (path) => {
    expect(() => parseObjectPath(path)).toThrow(invalid);
  });

  it.each(['seg 1.m4s', 'seg%201.m4s', 'seg?1.m4s', 'vidéo/seg_1.m4s'])('rejects a character outside the set in %j', (path) => {
    expect(() => parseObjectPath(path)).toThrow(invalid);
  });
});

describe('parseObjectPath: kinds and numbers', () => {
  it('numbers a segment by the digits in its name and templates its rendition', () => {
    expect(parseObjectPath('video/720p/seg_000123.m4s')).toEqual({
      path: 'video/720p/seg_000123.m4s',
      kind: 'segment',
      number: 123,
      rendition: 'video/720p/seg_{n}.m4s',
      width: 6,
    });
  });

  it('uses the last run of digits in the name', () => {
    const parsed = parseObjectPath('a1_b22.m4s');
    expect([parsed.number, parsed.rendition]).toEqual([22, 'a1_b{n}.m4s']);
  });

  it('ignores digits in the extension', () => {
    expect(parseObjectPath('seg_5.mp4').number).toBe(5);
  });

  it('ignores digits in the directories', () => {
    expect(parseObjectPath('video/720p/chunk.m4s').kind).toBe('static');
  });

  it('numbers a name without an extension', () => {
    expect(parseObjectPath('audio/seg42').number).toBe(42);
  });

  it('reports width 0 for a number that is not zero-padded', () => {
    expect(parseObjectPath('seg_123.m4s').width).toBe(0);
  });

  it('reports width 0 for the single digit 0', () => {
    expect(parseObjectPath('seg_0.m4s')).toMatchObject({ number: 0, width: 0 });
  });

  it('reports the padded width of 00', () => {
    expect(parseObjectPath('seg_00.m4s')).toMatchObject({ number: 0, width: 2 });
  });

  it('accepts a number of 15 digits', () => {
    expect(parseObjectPath('seg_999999999999999.m4s').number).toBe(999_999_999_999_999);
  });

  it('rejects a number of 16 digits', () => {
    expect(() => parseObjectPath('seg_1000000000000000.m4s')).toThrow(invalid);
  });

  it('lets Live-Segment override the number in the name', () => {
    const parsed = parseObjectPath('video/seg_7.m4s', 99);
    expect([parsed.number, parsed.rendition]).toEqual([99, 'video/seg_{n}.m4s']);
  });

  it('makes a name without digits a segment when Live-Segment is given', () => {
    expect(parseObjectPath('video/chunk.m4s', 5)).toEqual({
      path: 'video/chunk.m4s',
      kind: 'segment',
      number: 5,
      rendition: 'video/{n}',
      width: 0,
    });
  });

  it.each(['index.m3u8', 'video/720p/index_000123.m3u8', 'manifest.mpd', 'live2.MPD'])('classifies %j as mutable, digits or not', (path) => {
    const parsed = parseObjectPath(path);
    expect(parsed).toEqual({ path, kind: 'mutable' });
  });

  it('keeps a playlist mutable even with Live-Segment', () => {
    expect(parseObjectPath('index.m3u8', 3).kind).toBe('mutable');
  });

  it.each(['init.mp4', 'video/720p/init_720p_1.mp4', 'INIT-3.m4s'])('classifies %j as static without a number', (path) => {
    const parsed = parseObjectPath(path);
    expect(parsed).toEqual({ path, kind: 'static' });
  });

  it('classifies an object without a number as static', () => {
    expect(parseObjectPath('keys/key.bin')).toEqual({ path: 'keys/key.bin', kind: 'static' });
  });
});

describe('renditionPath', () => {
  it('pads the number to the width seen on ingest', () => {
    expect(renditionPath('video/seg_{n}.m4s', 42, 6)).toBe('video/seg_000042.m4s');
  });

  it('does not pad with width 0', () => {
    expect(renditionPath('video/seg_{n}.m4s', 42, 0)).toBe('video/seg_42.m4s');
  });

  it('round-trips with parseObjectPath', () => {
    const parsed = parseObjectPath('a/seg_0099.m4s');
    expect(renditionPath(parsed.rendition!, parsed.number!, parsed.width!)).toBe('a/seg_0099.m4s');
  });
});

describe('LL-HLS parts (<msn>.<part> before the extension)', () => {
  it('reads filePart273.4.mp4 as part 4 of segment 273, its part index its own rendition', () => {
    expect(parseObjectPath('v/filePart273.4.mp4')).toEqual({
      path: 'v/filePart273.4.mp4',
      kind: 'segment',
      number: 273,
      rendition: 'v/filePart{n}.4.mp4',
      width: 0,
      part: 4,
    });
  });

  it('keeps zero padding of the segment number for the rendition path', () => {
    const part = parseObjectPath('seg_00012.0.m4s');
    expect(part).toMatchObject({ number: 12, part: 0, rendition: 'seg_{n}.0.m4s', width: 5 });
    expect(renditionPath(part.rendition!, 13, part.width!)).toBe('seg_00013.0.m4s');
  });

  it('lets Live-Segment and Live-Part override the name', () => {
    expect(parseObjectPath('v/filePart273.4.mp4', { segment: 300, part: 7 })).toMatchObject({ number: 300, part: 7 });
    expect(parseObjectPath('v/chunk_9.m4s', { part: 2 })).toMatchObject({ kind: 'segment', number: 9, part: 2 });
    expect(parseObjectPath('v/chunk.m4s', { segment: 5, part: 1 })).toMatchObject({ number: 5, part: 1, rendition: 'v/{n}' });
  });

  it('refuses Live-Part when nothing gives the segment number', () => {
    expect(() => parseObjectPath('v/chunk.m4s', { part: 1 })).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });

  it('leaves whole segments, playlists and init segments without a part', () => {
    expect(parseObjectPath('v/seg_12.m4s').part).toBeUndefined();
    expect(parseObjectPath('v/index.3.m3u8')).toEqual({ path: 'v/index.3.m3u8', kind: 'mutable' });
    expect(parseObjectPath('v/init.1.mp4')).toEqual({ path: 'v/init.1.mp4', kind: 'static' });
  });

  it('needs an extension after the part (in a bare 12.3, .3 is the extension)', () => {
    expect(parseObjectPath('v/12.3')).toMatchObject({ number: 12 });
    expect(parseObjectPath('v/12.3').part).toBeUndefined();
  });
});
