/**
 * Reads what the origin needs from an LL-HLS media playlist (RFC 8216bis): where its live edge
 * is (last whole segment, parts of the segment in progress), its target durations, its preload
 * hint and whether it allows blocking reloads. It is not a validator: a packager's playlist is
 * served as it was PUT, and a line this reader does not understand is skipped.
 */

export interface MediaPlaylistEdge {
  /** EXT-X-TARGETDURATION in ms (undefined when absent: not a media playlist). */
  readonly targetDurationMs?: number;
  /** EXT-X-PART-INF PART-TARGET in ms (undefined without parts). */
  readonly partTargetMs?: number;
  /** EXT-X-MEDIA-SEQUENCE (0 when absent, as the RFC says). */
  readonly mediaSequence: number;
  /** Media sequence number of the last whole segment (mediaSequence - 1 when there is none). */
  readonly lastMsn: number;
  /** EXT-X-PART count of the segment in progress (number lastMsn + 1). */
  readonly trailingParts: number;
  /** EXT-X-PART count of the last whole segment. */
  readonly lastSegmentParts: number;
  /** The URI of EXT-X-PRELOAD-HINT with TYPE=PART, as written (relative to the playlist). */
  readonly preloadHintUri?: string;
  /** EXT-X-SERVER-CONTROL CAN-BLOCK-RELOAD=YES. */
  readonly canBlockReload: boolean;
  /** EXT-X-ENDLIST: the playlist will not change again. */
  readonly ended: boolean;
}

/** Attribute lists (`KEY=value,KEY="quoted, value"`), as in RFC 8216bis 4.2. */
export function parseAttributes(list: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const pattern = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (const match of list.matchAll(pattern)) {
    const raw = match[2]!;
    attributes.set(match[1]!, raw.startsWith('"') ? raw.slice(1, -1) : raw);
  }
  return attributes;
}

/** A decimal number of seconds (`2`, `0.333`), in whole ms; undefined for anything else. */
export function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return Math.round(Number(value) * 1000);
}

/** The edge of a media playlist's text. */
export function readMediaPlaylist(text: string): MediaPlaylistEdge {
  let targetDurationMs: number | undefined;
  let partTargetMs: number | undefined;
  let mediaSequence = 0;
  let segments = 0;
  let partsSinceSegment = 0;
  let lastSegmentParts = 0;
  let preloadHintUri: string | undefined;
  let canBlockReload = false;
  let ended = false;
  let inSegment = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      // A URI line closes the segment its EXTINF opened (parts listed before it belong to it).
      if (inSegment) {
        segments++;
        lastSegmentParts = partsSinceSegment;
        partsSinceSegment = 0;
        inSegment = false;
      }
      continue;
    }
    const [tag, value] = splitTag(line);
    switch (tag) {
      case '#EXT-X-TARGETDURATION':
        targetDurationMs = seconds(value);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        if (/^\d{1,15}$/.test(value.trim())) mediaSequence = Number(value.trim());
        break;
      case '#EXT-X-PART-INF':
        partTargetMs = seconds(parseAttributes(value).get('PART-TARGET'));
        break;
      case '#EXT-X-SERVER-CONTROL':
        canBlockReload = parseAttributes(value).get('CAN-BLOCK-RELOAD') === 'YES';
        break;
      case '#EXT-X-PART':
        partsSinceSegment++;
        break;
      case '#EXTINF':
        inSegment = true;
        break;
      case '#EXT-X-PRELOAD-HINT': {
        const attributes = parseAttributes(value);
        if (attributes.get('TYPE') === 'PART') preloadHintUri = attributes.get('URI');
        break;
      }
      case '#EXT-X-ENDLIST':
        ended = true;
        break;
    }
  }
  return {
    targetDurationMs,
    partTargetMs,
    mediaSequence,
    lastMsn: mediaSequence + segments - 1,
    trailingParts: partsSinceSegment,
    lastSegmentParts,
    preloadHintUri,
    canBlockReload,
    ended,
  };
}

/** A tag line's name and its value (`#EXTINF:2.0,` is `#EXTINF` and `2.0,`). */
export function splitTag(line: string): [tag: string, value: string] {
  const colon = line.indexOf(':');
  return colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1)];
}

/** Whether the text is an HLS playlist (a cheap check before reading one). */
export function isHlsPlaylistPath(path: string): boolean {
  return path.toLowerCase().endsWith('.m3u8');
}
