import { badRequest } from './errors.js';
import type { Mask } from './model.js';
import { parseObjectPath, parsePipelineId } from './object-path.js';

/** A range invalidation may name at most this many numbers (each becomes purges per rendition). */
export const MAX_INVALIDATION_RANGE = 10_000;
const MAX_PATHS = 1_000;
const FIELDS = ['from', 'to', 'pipeline', 'paths', 'all'];

export type Invalidation = { readonly kind: 'flush' } | { readonly kind: 'mask'; readonly mask: Omit<Mask, 'createdAt'> };

/** Validates `POST /admin/events/{event}/invalidations`. */
export function parseInvalidation(body: unknown): Invalidation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalidation must be a JSON object');
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0) throw badRequest(`unknown invalidation fields: ${unknown.join(', ')}`);
  if (input.all !== undefined) {
    if (input.all !== true || Object.keys(input).length !== 1) throw badRequest('"all" must be true and stand alone');
    return { kind: 'flush' };
  }
  const hasRange = input.from !== undefined || input.to !== undefined;
  let from: number | undefined;
  let to: number | undefined;
  if (hasRange) {
    from = input.from as number;
    to = input.to as number;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw badRequest('from and to must be integers with 0 <= from <= to');
    }
    if (to - from + 1 > MAX_INVALIDATION_RANGE) throw badRequest(`a range covers at most ${MAX_INVALIDATION_RANGE} numbers`);
  }
  let paths: string[] | undefined;
  if (input.paths !== undefined) {
    if (!Array.isArray(input.paths) || input.paths.length > MAX_PATHS || !input.paths.every((p) => typeof p === 'string')) {
      throw badRequest(`paths must be an array of at most ${MAX_PATHS} object paths`);
    }
    paths = input.paths.map((p: string) => parseObjectPath(p).path);
  }
  if (!hasRange && !paths?.length) throw badRequest('give from/to, paths, or all');
  const pipeline = input.pipeline === undefined ? undefined : parsePipelineId(String(input.pipeline));
  const mask = Object.fromEntries(Object.entries({ from, to, paths, pipeline }).filter(([, v]) => v !== undefined));
  return { kind: 'mask', mask };
}
