import { describe, expect, it } from 'vitest';
import { judgeRange, noneMatch } from '../../runtime/domain/conditional.js';

const ETAG = '"abc"';

describe('noneMatch', () => {
  it('is false without If-None-Match', () => {
    expect(noneMatch(undefined, ETAG)).toBe(false);
  });

  it('matches the same entity tag', () => {
    expect(noneMatch('"abc"', ETAG)).toBe(true);
  });

  it('matches a weak tag against the strong one (weak comparison)', () => {
    expect(noneMatch('W/"abc"', ETAG)).toBe(true);
  });

  it('does not match another tag', () => {
    expect(noneMatch('"abd"', ETAG)).toBe(false);
  });

  it('does not match the tag without quotes', () => {
    expect(noneMatch('abc', ETAG)).toBe(false);
  });

  it('matches one tag of a list', () => {
    expect(noneMatch('"x", W/"abc" , "y"', ETAG)).toBe(true);
  });

  it('matches * for any current object', () => {
    expect(noneMatch(' * ', ETAG)).toBe(true);
  });
});

describe('judgeRange', () => {
  const SIZE = 1_000;

  it('serves the full object without Range', () => {
    expect(judgeRange(undefined, SIZE, undefined, ETAG)).toEqual({ kind: 'full' });
  });

  it('serves a closed range', () => {
    expect(judgeRange('bytes=0-99', SIZE, undefined, ETAG)).toEqual({ kind: 'partial', start: 0, end: 99 });
  });

  it('serves a one-byte range', () => {
    expect(judgeRange('bytes=5-5', SIZE, undefined, ETAG)).toEqual({ kind: 'partial', start: 5, end: 5 });
  });

  it('serves an open-ended range to the last byte', () => {
    expect(judgeRange('bytes=500-', SIZE, undefined, ETAG)).toEqual({ kind: 'partial', start: 500, end: 999 });
  });

  it('clips a last position beyond the object to the last byte', () => {
    expect(judgeRange('bytes=900-5000', SIZE, undefined, ETAG)).toEqual({ kind: 'partial', start: 900, end: 999 });
  });

  it('serves a suffix range as the last bytes', () => {
    expect(judgeRange('bytes=-100', SIZE, undefined, ETAG)).toEqual({ kind: 'partial', start: 900, end: 999 });
  });

  it('serves the whole object for a suffix longer than it', () => {
    expect(judgeRange('bytes=-5000', SIZE, undefined, ETAG)).toEqual({ kind: 'partial', start: 0, end: 999 });
  });

  it('calls a zero-length suffix unsatisfiable', () => {
    expect(judgeRange('bytes=-0', SIZE, undefined, ETAG)).toEqual({ kind: 'unsatisfiable' });
  });

  it('calls a first position at the size unsatisfiable', () => {
    expect(judgeRange('bytes=1000-', SIZE, undefined, ETAG)).toEqual({ kind: 'unsatisfiable' });
  });

  it('calls a range beyond the size unsatisfiable', () => {
    expect(judgeRange('bytes=2000-3000', SIZE, undefined, ETAG)).toEqual({ kind: 'unsatisfiable' });
  });

  it('calls any range of an empty object unsatisfiable', () => {
    expect([judgeRange('bytes=0-', 0, undefined, ETAG), judgeRange('bytes=-1', 0, undefined, ETAG)]).toEqual([
      { kind: 'unsatisfiable' },
      { kind: 'unsatisfiable' },
    ]);
  });

  it('serves the full object for multiple ranges', () => {
    expect(judgeRange('bytes=0-1,5-6', SIZE, undefined, ETAG)).toEqual({ kind: 'full' });
  });

  it('serves the full object for a last position before the first', () => {
    expect(judgeRange('bytes=10-5', SIZE, undefined, ETAG)).toEqual({ kind: 'full' });
  });

  it.each(['bytes=-', 'items=0-1', 'bytes=a-b', 'bytes 0-1', 'bytes=0-1-2'])('serves the full object for the malformed %j', (range) => {
    expect(judgeRange(range, SIZE, undefined, ETAG)).toEqual({ kind: 'full' });
  });

  it('serves the range when If-Range matches the entity tag', () => {
    expect(judgeRange('bytes=0-9', SIZE, '"abc"', ETAG)).toEqual({ kind: 'partial', start: 0, end: 9 });
  });

  it('serves the full object when If-Range names another entity tag', () => {
    expect(judgeRange('bytes=0-9', SIZE, '"old"', ETAG)).toEqual({ kind: 'full' });
  });

  it('serves the full object when If-Range is weak (If-Range needs strong comparison)', () => {
    expect(judgeRange('bytes=0-9', SIZE, 'W/"abc"', ETAG)).toEqual({ kind: 'full' });
  });

  it('serves the full object rather than 416 when If-Range does not match', () => {
    expect(judgeRange('bytes=5000-', SIZE, '"old"', ETAG)).toEqual({ kind: 'full' });
  });
});
