import { lastListed, numberedMedia, readMpd } from './dash-manifest.js';
import { readHlsListing } from './hls-listing.js';
import type { ObjectPath } from './object-path.js';
import { parseObjectPath } from './object-path.js';

/**
 * What one playlist or manifest says about the numbered renditions it names (contract v3,
 * "Timelines from what packagers declare"): the numbers it lists or hints, and the duration
 * its packager declares between consecutive numbers. The origin learns the durations when the
 * playlist is ingested, and asks the served playlist before it answers 410.
 */

export interface ListedRendition {
  /** The rendition template (`v/seg_{n}.m4s`), as object-path.ts derives it. */
  readonly rendition: string;
  /** Lowest and highest number the playlist lists or hints for it. */
  readonly first: number;
  readonly last: number;
  /** The declared time between consecutive numbers, ms (undefined: the playlist does not say). */
  readonly declaredMs?: number;
  /** `last` is the preload hint: the playlist names nothing after it yet. */
  readonly hinted?: boolean;
}

export interface Listing {
  readonly renditions: ReadonlyMap<string, ListedRendition>;
  /** `EXT-X-ENDLIST`, or a static MPD: nothing follows what it lists. */
  readonly ended: boolean;
}

/** Playlists larger than this are not read for timing (a live playlist is a few KiB). */
export const MAX_LISTING_BYTES = 512 * 1024;
/**
 * Of an HLS playlist's whole segments, the first and this many last are resolved to objects: a
 * playlist that keeps hours (a DVR window) names thousands of one rendition, and its first and
 * last ones give the same range at a bounded cost per PUT (resolving is most of a read's cost).
 */
export const RESOLVED_SEGMENTS = 64;

export function isListingPath(path: string): boolean {
  const lower = path.toLowerCase();
  return lower.endsWith('.m3u8') || lower.endsWith('.mpd');
}

/**
 * The object a URI in the playlist at `playlistPath` names, if it is a numbered object of this
 * origin: relative URIs only (an absolute URL or path names something the origin cannot tell
 * is its own), `..` resolved, query and fragment dropped.
 */
export function resolveListed(playlistPath: string, uri: string): ObjectPath | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/')) return undefined;
  const parts = playlistPath.split('/').slice(0, -1);
  for (const part of uri.replace(/[?#].*$/, '').split('/')) {
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else if (part !== '.' && part !== '') parts.push(part);
  }
  try {
    const object = parseObjectPath(parts.join('/'));
    return object.kind === 'segment' && object.rendition !== undefined && object.number !== undefined ? object : undefined;
  } catch {
    return undefined;
  }
}

class RenditionsBuilder {
  readonly renditions = new Map<string, ListedRendition>();

  add(rendition: string, number: number, declaredMs: number | undefined, hint: boolean): void {
    const known = this.renditions.get(rendition);
    const declared = known?.declaredMs === undefined ? declaredMs : declaredMs === undefined ? known.declaredMs : Math.max(known.declaredMs, declaredMs);
    const last = Math.max(known?.last ?? number, number);
    const hinted = last === number ? hint || (known?.last === number && known.hinted === true) : known!.hinted === true;
    this.renditions.set(rendition, {
      rendition,
      first: Math.min(known?.first ?? number, number),
      last,
      ...(declared === undefined ? {} : { declaredMs: declared }),
      ...(hinted ? { hinted } : {}),
    });
  }
}

/**
 * HLS: a segment's rendition advances once per segment (median `EXTINF`); so does a part's named
 * `<msn>.<part>` (each part index is its own rendition, one per segment). A part named with a
 * number of its own (`part_{n}.m4s`, numbered across segments) advances once per part.
 */
function hlsListing(playlistPath: string, text: string): Listing {
  const hls = readHlsListing(text);
  const builder = new RenditionsBuilder();
  const segments = hls.uris.filter((listed) => listed.role === 'segment');
  const resolved = new Set([segments[0], ...segments.slice(-RESOLVED_SEGMENTS)]);
  for (const listed of hls.uris) {
    if (listed.role === 'segment' && !resolved.has(listed)) continue;
    const { uri, role } = listed;
    const object = resolveListed(playlistPath, uri);
    if (!object) continue;
    const perSegment = role === 'segment' || object.part !== undefined;
    builder.add(object.rendition!, object.number!, perSegment ? hls.segmentMs : (hls.partMs ?? hls.segmentMs), role === 'hint');
  }
  return { renditions: builder.renditions, ended: hls.ended };
}

/** DASH: each `$Number$` Representation, from its startNumber to the last it lists now. */
function dashListing(manifestPath: string, text: string, nowMs: number): Listing | undefined {
  const manifest = readMpd(text);
  if (!manifest) return undefined;
  const renditions = new Map<string, ListedRendition>();
  for (const representation of manifest.representations) {
    const first = resolveListed(manifestPath, numberedMedia(representation.media, representation.startNumber));
    // A template whose name carries other digits after $Number$ is not one object-path.ts numbers by it.
    if (!first || first.number !== representation.startNumber) continue;
    const declaredMs = representation.durationMs ?? manifest.maxSegmentMs;
    // Before the MPD's clock makes its first segment available, only that next number is named.
    const last = Math.max(first.number - 1, lastListed(manifest, representation, nowMs) ?? first.number);
    renditions.set(first.rendition!, { rendition: first.rendition!, first: first.number, last, ...(declaredMs === undefined ? {} : { declaredMs }) });
  }
  return { renditions, ended: !manifest.dynamic };
}

/** What the playlist or manifest at `path` lists; undefined for any other object, or one too large to read. */
export function readListing(path: string, body: Buffer, nowMs: number): Listing | undefined {
  if (!isListingPath(path) || body.length > MAX_LISTING_BYTES) return undefined;
  const text = body.toString('utf8');
  return path.toLowerCase().endsWith('.mpd') ? dashListing(path, text, nowMs) : hlsListing(path, text);
}

/**
 * Whether the listing names `object`: a number it lists or hints, or, while it is live, the
 * next number of a rendition it lists without a hint (the DASH `$Number$` after its last; the
 * HLS part index after the hinted one, the next segment: what its next update names).
 */
export function listsObject(listing: Listing, object: ObjectPath): boolean {
  if (object.rendition === undefined || object.number === undefined) return false;
  const listed = listing.renditions.get(object.rendition);
  if (!listed) return false;
  const last = listing.ended || listed.hinted ? listed.last : listed.last + 1;
  return object.number >= listed.first && object.number <= last;
}
