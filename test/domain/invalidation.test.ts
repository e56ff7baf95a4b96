import { describe, expect, it } from 'vitest';
import { MAX_INVALIDATION_RANGE, parseInvalidation } from '../../runtime/domain/invalidation.js';

const badRequest = expect.objectContaining({ name: 'OriginError', code: 'bad_request' });
const invalid = expect.objectContaining({ name: 'OriginError', code: 'invalid_identifier' });

describe('parseInvalidation', () => {
  it('parses a range', () => {
    expect(parseInvalidation({ from: 10, to: 20 })).toEqual({ kind: 'mask', mask: { from: 10, to: 20 } });
  });

  it('parses a range for one pipeline', () => {
    expect(parseInvalidation({ from: 10, to: 20, pipeline: 'b' })).toEqual({ kind: 'mask', mask: { from: 10, to: 20, pipeline: 'b' } });
  });

  it('parses a single-number range', () => {
    expect(parseInvalidation({ from: 0, to: 0 })).toEqual({ kind: 'mask', mask: { from: 0, to: 0 } });
  });

  it('parses paths', () => {
    expect(parseInvalidation({ paths: ['init.mp4', 'video/seg_1.m4s'] })).toEqual({
      kind: 'mask',
      mask: { paths: ['init.mp4', 'video/seg_1.m4s'] },
    });
  });

  it('parses a range and paths together', () => {
    expect(parseInvalidation({ from: 1, to: 2, paths: ['init.mp4'] })).toEqual({ kind: 'mask', mask: { from: 1, to: 2, paths: ['init.mp4'] } });
  });

  it('accepts a range of exactly the limit', () => {
    expect(parseInvalidation({ from: 1, to: MAX_INVALIDATION_RANGE }).kind).toBe('mask');
  });

  it('rejects a range one number over the limit', () => {
    expect(() => parseInvalidation({ from: 0, to: MAX_INVALIDATION_RANGE })).toThrow(badRequest);
  });

  it('rejects to below from', () => {
    expect(() => parseInvalidation({ from: 5, to: 4 })).toThrow(badRequest);
  });

  it('rejects a negative from', () => {
    expect(() => parseInvalidation({ from: -1, to: 4 })).toThrow(badRequest);
  });

  it('rejects from without to', () => {
    expect(() => parseInvalidation({ from: 5 })).toThrow(badRequest);
  });

  it('rejects to without from', () => {
    expect(() => parseInvalidation({ to: 5 })).toThrow(badRequest);
  });

  it.each([1.5, '1', Number.MAX_SAFE_INTEGER + 1])('rejects the non-integer bound %j', (from) => {
    expect(() => parseInvalidation({ from, to: Number.MAX_SAFE_INTEGER + 2 })).toThrow(badRequest);
  });

  it('rejects an invalid path as an invalid identifier', () => {
    expect(() => parseInvalidation({ paths: ['video/../secret'] })).toThrow(invalid);
  });

  it('rejects paths that are not strings', () => {
    expect(() => parseInvalidation({ paths: [1] })).toThrow(badRequest);
  });

  it('rejects more than 1000 paths', () => {
    expect(() => parseInvalidation({ paths: Array.from({ length: 1_001 }, (_, i) => `seg_${i}.m4s`) })).toThrow(badRequest);
  });

  it('rejects an empty paths list without a range', () => {
    expect(() => parseInvalidation({ paths: [] })).toThrow(badRequest);
  });

  it('rejects an empty body', () => {
    expect(() => parseInvalidation({})).toThrow(badRequest);
  });

  it('rejects a pipeline alone', () => {
    expect(() => parseInvalidation({ pipeline: 'a' })).toThrow(badRequest);
  });

  it('rejects an invalid pipeline id', () => {
    expect(() => parseInvalidation({ from: 1, to: 2, pipeline: 'A' })).toThrow(invalid);
  });

  it('parses all as a flush', () => {
    expect(parseInvalidation({ all: true })).toEqual({ kind: 'flush' });
  });

  it('rejects all with other fields', () => {
    expect(() => parseInvalidation({ all: true, from: 1, to: 2 })).toThrow(badRequest);
  });

  it('rejects all: false', () => {
    expect(() => parseInvalidation({ all: false })).toThrow(badRequest);
  });

  it('rejects unknown fields', () => {
    expect(() => parseInvalidation({ from: 1, to: 2, rendition: 'video' })).toThrow(badRequest);
  });

  it.each([null, [], 'all'])('rejects the non-object %j', (body) => {
    expect(() => parseInvalidation(body)).toThrow(badRequest);
  });
});
