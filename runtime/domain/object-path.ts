import { badRequest, invalidIdentifier } from './errors.js';

/**
 * Identifier and object-path rules of the HTTP contract, and how an object's name tells its
 * kind and segment number.
 */

/** An event id (the contract's `{event}`); the route schemas use this same pattern. */
export const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A pipeline id (the contract's `{pipeline}`); the route schemas use this same pattern. */
export const PIPELINE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
export const MAX_PATH_SEGMENTS = 8;
export const MAX_PATH_BYTES = 512;
/** Keeps segment numbers exact as JavaScript numbers. */
const MAX_NUMBER_DIGITS = 15;

/** Playlists and manifests: the latest PUT wins, whatever the name. */
const MUTABLE_EXTENSIONS = ['.m3u8', '.mpd'];

export type ObjectKind = 'segment' | 'mutable' | 'static';

export interface ObjectPath {
  readonly path: string;
  readonly kind: ObjectKind;
  /** Segment number; only for kind `segment`. */
  readonly number?: number;
  /** The path with the segment number replaced by `{n}` (`video/720p/seg_{n}.m4s`); segments only. */
  readonly rendition?: string;
  /** Zero-padded width of the number in the name (0 when not padded). */
  readonly width?: number;
  /**
   * LL-HLS part index within segment `number` (`filePart273.4.mp4` is part 4 of segment 273).
   * A part is a `segment` for selection and timing: it belongs to its segment's window.
   */
  readonly part?: number;
}

/** What the ingest headers say about a name (they override what the name says). */
export interface ExplicitNumbering {
  /** `Live-Segment`. */
  readonly segment?: number;
  /** `Live-Part`. */
  readonly part?: number;
}

/** `<msn>.<part>` right before the extension: Apple's LL-HLS naming (`filePart273.4.mp4`). */
const PART_NAME = /(\d+)\.(\d+)$/;

export function parseEventId(value: string): string {
  if (!EVENT_ID.test(value)) throw invalidIdentifier(`event id must match ${EVENT_ID.source}`);
  return value;
}

export function parsePipelineId(value: string): string {
  if (!PIPELINE_ID.test(value)) throw invalidIdentifier(`pipeline id must match ${PIPELINE_ID.source}`);
  return value;
}

/** True when the name matches the pipeline id rule (used for config validation). */
export function isPipelineId(value: unknown): value is string {
  return typeof value === 'string' && PIPELINE_ID.test(value);
}

/**
 * Validates an object path (already percent-decoded by the router) and classifies it.
 * `explicit` carries the ingest `Live-Segment` (or, as a bare number, just it) and `Live-Part`
 * headers, which override the name's digits.
 */
export function parseObjectPath(path: string, explicit?: number | ExplicitNumbering): ObjectPath {
  const { segment: explicitNumber, part: explicitPart } = typeof explicit === 'number' ? { segment: explicit, part: undefined } : (explicit ?? {});
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw invalidIdentifier(`path longer than ${MAX_PATH_BYTES} bytes`);
  const parts = path.split('/');
  if (parts.length < 1 || parts.length > MAX_PATH_SEGMENTS) {
    throw invalidIdentifier(`path must have 1 to ${MAX_PATH_SEGMENTS} segments`);
  }
  for (const part of parts) {
    if (part === '.' || part === '..') throw invalidIdentifier('path must not contain . or .. segments');
    if (!PATH_SEGMENT.test(part)) throw invalidIdentifier(`path segments must match ${PATH_SEGMENT.source}`);
  }
  const name = parts[parts.length - 1]!;
  const lower = name.toLowerCase();
  if (MUTABLE_EXTENSIONS.some((ext) => lower.endsWith(ext))) return { path, kind: 'mutable' };
  if (lower.startsWith('init')) return { path, kind: 'static' };

  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const dir = parts.slice(0, -1).join('/');
  const partMatch = PART_NAME.exec(stem);
  if (partMatch && dot > 0) {
    const [, msnDigits, partDigits] = partMatch as unknown as [string, string, string];
    if (msnDigits.length > MAX_NUMBER_DIGITS || partDigits.length > MAX_NUMBER_DIGITS) {
      throw invalidIdentifier(`segment and part numbers are at most ${MAX_NUMBER_DIGITS} digits`);
    }
    // Each part index is its own rendition (`filePart{n}.4.mp4`): its cadence is the segment
    // duration, and a number range expands to real part paths for purges.
    const template = `${stem.slice(0, partMatch.index)}{n}.${partDigits}${name.slice(stem.length)}`;
    const width = msnDigits.length > 1 && msnDigits.startsWith('0') ? msnDigits.length : 0;
    return {
      path,
      kind: 'segment',
      number: explicitNumber ?? Number(msnDigits),
      rendition: dir ? `${dir}/${template}` : template,
      width,
      part: explicitPart ?? Number(partDigits),
    };
  }
  const match = /(\d+)(?!.*\d)/.exec(stem);
  if (explicitPart !== undefined && !match && explicitNumber === undefined) {
    throw badRequest('Live-Part needs a segment number, from the name or Live-Segment');
  }
  const withPart = (object: ObjectPath): ObjectPath => (explicitPart === undefined ? object : { ...object, part: explicitPart });
  if (match) {
    const digits = match[1]!;
    if (digits.length > MAX_NUMBER_DIGITS) throw invalidIdentifier(`segment number longer than ${MAX_NUMBER_DIGITS} digits`);
    const template = `${stem.slice(0, match.index)}{n}${stem.slice(match.index + digits.length)}${name.slice(stem.length)}`;
    const rendition = dir ? `${dir}/${template}` : template;
    const width = digits.length > 1 && digits.startsWith('0') ? digits.length : 0;
    return withPart({ path, kind: 'segment', number: explicitNumber ?? Number(digits), rendition, width });
  }
  if (explicitNumber !== undefined) {
    return withPart({ path, kind: 'segment', number: explicitNumber, rendition: dir ? `${dir}/{n}` : '{n}', width: 0 });
  }
  return { path, kind: 'static' };
}

/** The path of segment `n` of a rendition template, honouring the zero padding seen on ingest. */
export function renditionPath(rendition: string, n: number, width: number): string {
  return rendition.replace('{n}', String(n).padStart(width, '0'));
}
