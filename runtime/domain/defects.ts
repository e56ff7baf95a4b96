import { badRequest } from './errors.js';

/** Defect kinds the packagers report; unknown kinds are kept and forwarded as they are. */
export const KNOWN_DEFECTS = ['short', 'missing', 'tfdt', 'discontinuity', 'av-sync', 'corrupt'] as const;

const DEFECT_KIND = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_DEFECTS = 16;

/**
 * Parses a `Live-Defect` header value: absent, empty or `none` is clean; otherwise a
 * comma-separated list of kinds (case-insensitive, stored lower case, duplicates dropped).
 */
export function parseDefects(header: string | undefined): string[] {
  if (header === undefined) return [];
  const value = header.trim().toLowerCase();
  if (value === '' || value === 'none') return [];
  const kinds = value.split(',').map((kind) => kind.trim());
  for (const kind of kinds) {
    if (!DEFECT_KIND.test(kind)) throw badRequest(`Live-Defect kinds must match ${DEFECT_KIND.source}, or be "none"`);
  }
  const unique = [...new Set(kinds)];
  if (unique.length > MAX_DEFECTS) throw badRequest(`Live-Defect lists more than ${MAX_DEFECTS} kinds`);
  return unique;
}

export function isKnownDefect(kind: string): boolean {
  return (KNOWN_DEFECTS as readonly string[]).includes(kind);
}
