import { describe, expect, it } from 'vitest';
import { cacheControl, servedTtlMs, TTL_DEFAULTS, ttlHeaders } from '../../runtime/domain/ttl.js';

describe('servedTtlMs', () => {
  it('gives a clean segment the long immutable lifetime', () => {
    expect(servedTtlMs({ kind: 'segment', defective: false }, 2_000)).toBe(TTL_DEFAULTS.immutableMs);
  });

  it('gives a static object the long immutable lifetime', () => {
    expect(servedTtlMs({ kind: 'static', defective: false }, 2_000)).toBe(TTL_DEFAULTS.immutableMs);
  });

  it('gives a defective segment one D', () => {
    expect(servedTtlMs({ kind: 'segment', defective: true }, 2_000)).toBe(2_000);
  });

  it('gives a playlist half a D', () => {
    expect(servedTtlMs({ kind: 'mutable', defective: false }, 2_000)).toBe(1_000);
  });

  it('rounds half an odd D down to whole ms', () => {
    expect(servedTtlMs({ kind: 'mutable', defective: false }, 2_001)).toBe(1_000);
  });

  it('uses the fallback D for a playlist before any D is known', () => {
    expect(servedTtlMs({ kind: 'mutable', defective: false }, undefined)).toBe(TTL_DEFAULTS.fallbackSegmentMs / 2);
  });

  it('uses the fallback D for a defective segment before any D is known', () => {
    expect(servedTtlMs({ kind: 'segment', defective: true }, undefined)).toBe(TTL_DEFAULTS.fallbackSegmentMs);
  });
});

describe('TTL_DEFAULTS', () => {
  it('has a 100 ms hold-timeout 404', () => {
    expect(TTL_DEFAULTS.shortMs).toBe(100);
  });

  it('has a 5 s overload 503', () => {
    expect(TTL_DEFAULTS.overloadMs).toBe(5_000);
  });
});

describe('cacheControl', () => {
  it('rounds down to whole seconds', () => {
    expect(cacheControl(1_999)).toBe('public, max-age=1');
  });

  it('gives max-age=0 below one second', () => {
    expect(cacheControl(999)).toBe('public, max-age=0');
  });

  it('never goes negative', () => {
    expect(cacheControl(-5_000)).toBe('public, max-age=0');
  });

  it('adds immutable when asked', () => {
    expect(cacheControl(86_400_000, true)).toBe('public, max-age=86400, immutable');
  });
});

describe('ttlHeaders', () => {
  it('carries the exact lifetime in Live-TTL-Ms and whole seconds in Cache-Control', () => {
    expect(ttlHeaders(12_750)).toEqual({ 'Cache-Control': 'public, max-age=12', 'Live-TTL-Ms': '12750' });
  });

  it('carries a sub-second lifetime exactly', () => {
    expect(ttlHeaders(100)).toEqual({ 'Cache-Control': 'public, max-age=0', 'Live-TTL-Ms': '100' });
  });

  it('rounds a fractional lifetime to whole ms', () => {
    expect(ttlHeaders(1_000.6)['Live-TTL-Ms']).toBe('1001');
  });

  it('clamps a negative lifetime to 0', () => {
    expect(ttlHeaders(-1)).toEqual({ 'Cache-Control': 'public, max-age=0', 'Live-TTL-Ms': '0' });
  });

  it('marks an immutable lifetime', () => {
    expect(ttlHeaders(TTL_DEFAULTS.immutableMs, true)['Cache-Control']).toBe('public, max-age=86400, immutable');
  });
});
