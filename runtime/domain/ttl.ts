/**
 * Cache lifetimes, in milliseconds. `Cache-Control` carries whole seconds rounded down for
 * ordinary caches (RFC 9111); `Live-TTL-Ms` carries the exact value for caches that honour it.
 */

export interface TtlPolicy {
  readonly immutableMs: number;
  readonly goneMs: number;
  readonly shortMs: number;
  readonly unknownEventMs: number;
  readonly overloadMs: number;
  readonly fallbackSegmentMs: number;
}

export const TTL_DEFAULTS: TtlPolicy = {
  /** Clean segments and static objects: they never change once served (pinned selection). */
  immutableMs: 86_400_000,
  /** 410 Gone: the segment's deadline passed and nothing was produced. */
  goneMs: 86_400_000,
  /** 404 after a held request timed out, and 404 for objects with no timeline. */
  shortMs: 100,
  /** 404 for an event the origin does not know. */
  unknownEventMs: 1_000,
  /** 503 when shedding load. */
  overloadMs: 5_000,
  /** Segment duration assumed for playlist TTLs before any is known. */
  fallbackSegmentMs: 2_000,
};

export interface ServedObject {
  readonly kind: 'segment' | 'mutable' | 'static';
  readonly defective: boolean;
}

/** Lifetime of a 200/206/304: clean immutable, defective one D (so a healed one replaces it), playlists D/2. */
export function servedTtlMs(object: ServedObject, segmentDurationMs: number | undefined, policy: TtlPolicy = TTL_DEFAULTS): number {
  const d = segmentDurationMs ?? policy.fallbackSegmentMs;
  if (object.kind === 'mutable') return Math.floor(d / 2);
  if (object.defective) return d;
  return policy.immutableMs;
}

export function cacheControl(ttlMs: number, immutable = false): string {
  const seconds = Math.max(0, Math.floor(ttlMs / 1000));
  return immutable ? `public, max-age=${seconds}, immutable` : `public, max-age=${seconds}`;
}

/** Both TTL headers for a lifetime. */
export function ttlHeaders(ttlMs: number, immutable = false): Record<string, string> {
  const ms = Math.max(0, Math.round(ttlMs));
  return { 'Cache-Control': cacheControl(ms, immutable), 'Live-TTL-Ms': String(ms) };
}
