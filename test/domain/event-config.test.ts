import { describe, expect, it } from 'vitest';
import { MAX_BETTER_WAIT_MS } from '../../runtime/domain/better-wait.js';
import { DEFAULT_WINDOW_SEGMENTS, describeEventConfig, parseEventConfig } from '../../runtime/domain/event-config.js';

const badRequest = expect.objectContaining({ name: 'OriginError', code: 'bad_request' });

describe('parseEventConfig', () => {
  it('accepts an empty object', () => {
    expect(parseEventConfig({})).toEqual({});
  });

  it('parses a full config, AST to epoch ms', () => {
    expect(
      parseEventConfig({
        pipelines: ['b', 'a'],
        segmentDurationMs: 2_000,
        availabilityStartTime: '2024-01-01T12:00:00Z',
        startNumber: 1,
        holdGraceMs: 500,
        windowSegments: 900,
      }),
    ).toEqual({
      pipelines: ['b', 'a'],
      segmentDurationMs: 2_000,
      availabilityStartTime: Date.UTC(2024, 0, 1, 12),
      startNumber: 1,
      holdGraceMs: 500,
      windowSegments: 900,
    });
  });

  it('honours a time zone offset in AST', () => {
    expect(parseEventConfig({ segmentDurationMs: 2_000, availabilityStartTime: '2024-01-01T13:00:00+01:00' }).availabilityStartTime).toBe(
      Date.UTC(2024, 0, 1, 12),
    );
  });

  it('leaves absent fields out', () => {
    expect(Object.keys(parseEventConfig({ pipelines: ['a'] }))).toEqual(['pipelines']);
  });

  it.each([null, [], 'config', 3])('rejects the non-object %j', (body) => {
    expect(() => parseEventConfig(body)).toThrow(badRequest);
  });

  it('rejects unknown fields', () => {
    expect(() => parseEventConfig({ pipelines: ['a'], segmentDuration: 2_000 })).toThrow(badRequest);
  });

  it('rejects AST without D', () => {
    expect(() => parseEventConfig({ availabilityStartTime: '2024-01-01T00:00:00Z' })).toThrow(badRequest);
  });

  it('rejects D without AST', () => {
    expect(() => parseEventConfig({ segmentDurationMs: 2_000 })).toThrow(badRequest);
  });

  it('rejects duplicate pipelines', () => {
    expect(() => parseEventConfig({ pipelines: ['a', 'b', 'a'] })).toThrow(badRequest);
  });

  it('rejects an invalid pipeline id', () => {
    expect(() => parseEventConfig({ pipelines: ['A'] })).toThrow(badRequest);
  });

  it('rejects pipelines that are not an array', () => {
    expect(() => parseEventConfig({ pipelines: 'a,b' })).toThrow(badRequest);
  });

  it('accepts 16 pipelines', () => {
    const pipelines = Array.from({ length: 16 }, (_, i) => `p${i}`);
    expect(parseEventConfig({ pipelines }).pipelines).toEqual(pipelines);
  });

  it('rejects 17 pipelines', () => {
    expect(() => parseEventConfig({ pipelines: Array.from({ length: 17 }, (_, i) => `p${i}`) })).toThrow(badRequest);
  });

  it.each(['yesterday', '2024-01-01', '1704067200000', '2024-13-01T00:00:00Z', '2024-01-01T25:00:00Z'])(
    'rejects the AST %j, which is not an ISO 8601 date-time',
    (value) => {
      expect(() => parseEventConfig({ segmentDurationMs: 2_000, availabilityStartTime: value })).toThrow(badRequest);
    },
  );

  it('rejects an AST on a day the month does not have', () => {
    expect(() => parseEventConfig({ segmentDurationMs: 2_000, availabilityStartTime: '2023-02-29T00:00:00Z' })).toThrow(badRequest);
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseEventConfig({ segmentDurationMs: 2_000, availabilityStartTime: '2024-02-29T00:00:00Z' }).availabilityStartTime).toBe(Date.UTC(2024, 1, 29));
  });

  it('rejects an AST given as a number', () => {
    expect(() => parseEventConfig({ segmentDurationMs: 2_000, availabilityStartTime: 1_704_067_200_000 })).toThrow(badRequest);
  });

  it.each([0, -1, 1.5, 60_001, '2000'])('rejects segmentDurationMs %j', (value) => {
    expect(() => parseEventConfig({ segmentDurationMs: value, availabilityStartTime: '2024-01-01T00:00:00Z' })).toThrow(badRequest);
  });

  it('accepts startNumber 0', () => {
    expect(parseEventConfig({ startNumber: 0 }).startNumber).toBe(0);
  });

  it('rejects a negative startNumber', () => {
    expect(() => parseEventConfig({ startNumber: -1 })).toThrow(badRequest);
  });

  it('accepts holdGraceMs 0', () => {
    expect(parseEventConfig({ holdGraceMs: 0 }).holdGraceMs).toBe(0);
  });

  it('rejects windowSegments 0', () => {
    expect(() => parseEventConfig({ windowSegments: 0 })).toThrow(badRequest);
  });
});

describe('describeEventConfig', () => {
  it('shows AST as ISO 8601', () => {
    expect(describeEventConfig({ availabilityStartTime: Date.UTC(2024, 0, 1, 12) }).availabilityStartTime).toBe('2024-01-01T12:00:00.000Z');
  });

  it('shows the default window when none is configured', () => {
    expect(describeEventConfig({}).windowSegments).toBe(DEFAULT_WINDOW_SEGMENTS);
  });

  it('shows a configured window', () => {
    expect(describeEventConfig({ windowSegments: 10 }).windowSegments).toBe(10);
  });

  it('round-trips through parseEventConfig, with the fixed defaults filled in', () => {
    const config = parseEventConfig({ segmentDurationMs: 2_000, availabilityStartTime: '2024-01-01T12:00:00Z', pipelines: ['a'] });
    const shown = describeEventConfig(config);
    expect(parseEventConfig(shown)).toEqual({ ...config, windowSegments: DEFAULT_WINDOW_SEGMENTS, minQuality: 0 });
  });

  it('shows minQuality 0 when none is configured, and betterWaitMs only when configured (its default follows D)', () => {
    expect(describeEventConfig({}).minQuality).toBe(0);
    expect('betterWaitMs' in describeEventConfig({})).toBe(false);
    expect(describeEventConfig({ minQuality: 60, betterWaitMs: 40 })).toMatchObject({ minQuality: 60, betterWaitMs: 40 });
  });
});

describe('parseEventConfig: quality (contract v3)', () => {
  it('takes minQuality and betterWaitMs, 0 included (no minimum, no wait)', () => {
    expect(parseEventConfig({ minQuality: 60, betterWaitMs: 120 })).toEqual({ minQuality: 60, betterWaitMs: 120 });
    expect(parseEventConfig({ minQuality: 0, betterWaitMs: 0 })).toEqual({ minQuality: 0, betterWaitMs: 0 });
    expect(parseEventConfig({ minQuality: 100, betterWaitMs: MAX_BETTER_WAIT_MS })).toEqual({ minQuality: 100, betterWaitMs: MAX_BETTER_WAIT_MS });
  });

  it.each([-1, 101, 50.5, '60', null, true])('rejects minQuality %j with a reason', (minQuality) => {
    expect(() => parseEventConfig({ minQuality })).toThrow(
      expect.objectContaining({ code: 'bad_request', message: 'minQuality must be an integer from 0 to 100' }),
    );
  });

  it.each([-1, MAX_BETTER_WAIT_MS + 1, 2.5, '100'])('rejects betterWaitMs %j with a reason', (betterWaitMs) => {
    expect(() => parseEventConfig({ betterWaitMs })).toThrow(
      expect.objectContaining({ code: 'bad_request', message: `betterWaitMs must be an integer from 0 to ${MAX_BETTER_WAIT_MS}` }),
    );
  });

  it('rejects a wait as long as a segment', () => {
    const template = { segmentDurationMs: 1_000, availabilityStartTime: '2024-01-01T12:00:00Z' };
    expect(() => parseEventConfig({ ...template, betterWaitMs: 1_000 })).toThrow(
      expect.objectContaining({ code: 'bad_request', message: 'betterWaitMs must be shorter than segmentDurationMs' }),
    );
    expect(parseEventConfig({ ...template, betterWaitMs: 999 }).betterWaitMs).toBe(999);
  });
});
