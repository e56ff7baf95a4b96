import { parseAttributes, seconds, splitTag } from './ll-hls-playlist.js';

/**
 * What an HLS media playlist names and declares (RFC 8216bis): each media URI with the role it is
 * named in, and the durations the packager states for its segments and parts. It reads as
 * little as the timeline needs; the playlist itself is served as it was PUT.
 */

/** How a playlist names an object: a whole segment (after EXTINF), a part, or the preload hint. */
export type ListedRole = 'segment' | 'part' | 'hint';

export interface ListedUri {
  /** As written (relative to the playlist, usually). */
  readonly uri: string;
  readonly role: ListedRole;
}

export interface HlsListing {
  readonly uris: readonly ListedUri[];
  /**
   * Median of the last DECLARED_SEGMENTS `EXTINF`s in ms, else `EXT-X-TARGETDURATION` (a playlist
   * whose first segment is still in parts).
   */
  readonly segmentMs?: number;
  /** Median `EXT-X-PART` `DURATION` in ms, else `EXT-X-PART-INF` `PART-TARGET`. */
  readonly partMs?: number;
  /** `EXT-X-ENDLIST`: nothing follows what it lists. */
  readonly ended: boolean;
}

/**
 * How many of the newest segments declare the duration: the packager's present cadence, and a
 * bounded cost for a playlist that keeps hours of segments.
 */
export const DECLARED_SEGMENTS = 64;

/** The median of a non-empty list (the lower middle of an even count: a declared duration, not an average). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}

export function readHlsListing(text: string): HlsListing {
  const uris: ListedUri[] = [];
  /** The EXTINF values as written: only the newest are read. */
  const extinfs: string[] = [];
  const parts: number[] = [];
  let targetMs: number | undefined;
  let partTargetMs: number | undefined;
  let ended = false;
  let awaitingSegmentUri = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (awaitingSegmentUri) uris.push({ uri: line, role: 'segment' });
      awaitingSegmentUri = false;
      continue;
    }
    const [tag, value] = splitTag(line);
    switch (tag) {
      case '#EXTINF':
        extinfs.push(value);
        awaitingSegmentUri = true;
        break;
      case '#EXT-X-TARGETDURATION':
        targetMs = seconds(value);
        break;
      case '#EXT-X-PART-INF':
        partTargetMs = seconds(parseAttributes(value).get('PART-TARGET'));
        break;
      case '#EXT-X-PART': {
        const attributes = parseAttributes(value);
        const duration = seconds(attributes.get('DURATION'));
        if (duration !== undefined) parts.push(duration);
        const uri = attributes.get('URI');
        if (uri) uris.push({ uri, role: 'part' });
        break;
      }
      case '#EXT-X-PRELOAD-HINT': {
        const attributes = parseAttributes(value);
        const uri = attributes.get('URI');
        if (uri && attributes.get('TYPE') === 'PART') uris.push({ uri, role: 'hint' });
        break;
      }
      case '#EXT-X-ENDLIST':
        ended = true;
        break;
    }
  }
  const durations = extinfs.slice(-DECLARED_SEGMENTS).flatMap((value) => seconds(value.split(',')[0]) ?? []);
  return { uris, segmentMs: median(durations) ?? targetMs, partMs: median(parts) ?? partTargetMs, ended };
}
