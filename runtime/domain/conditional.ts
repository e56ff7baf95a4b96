/**
 * Conditional and range request rules (RFC 9110 13.1.2, 14): pure functions over header values.
 */

/** If-None-Match uses weak comparison: `W/"x"` matches `"x"`; `*` matches any current object. */
export function noneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const value = ifNoneMatch.trim();
  if (value === '*') return true;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return value.split(',').some((tag) => strip(tag) === strip(etag));
}

export type RangeVerdict =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * A single `bytes=` range against an object of `size` bytes. Multiple ranges, other units and
 * malformed values are ignored (full response), as the RFC allows; If-Range with another
 * entity tag also means the full object.
 */
export function judgeRange(range: string | undefined, size: number, ifRange: string | undefined, etag: string): RangeVerdict {
  if (range === undefined) return { kind: 'full' };
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'full' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'full' };
  const [, first, last] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
