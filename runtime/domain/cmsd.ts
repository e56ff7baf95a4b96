import type { CmsdDynamic, CmsdStatic } from '@svta/cml-cmsd';
import { CmsdObjectType, CmsdStreamingFormat, CmsdStreamType, encodeCmsdDynamic, encodeCmsdStatic } from '@svta/cml-cmsd';
import type { ObjectPath } from './object-path.js';
import { renditionPath } from './object-path.js';

/**
 * Common Media Server Data (CTA-5006) on delivery responses: what a CDN or player can learn
 * about an object without parsing it. The facts come from the name and the event's timeline;
 * a key whose value the origin does not know is left out, as the specification asks.
 */

export const CMSD_STATIC_HEADER = 'CMSD-Static';
export const CMSD_DYNAMIC_HEADER = 'CMSD-Dynamic';
/** The identifier this origin writes its CMSD-Dynamic item under (one item per hop). */
export const CMSD_SERVER_ID = 'live-origin';

const AUDIO_EXTENSIONS = ['.aac', '.m4a', '.mp3', '.ac3', '.ec3', '.cmfa'];
const VIDEO_EXTENSIONS = ['.m4v', '.cmfv'];
const CAPTION_EXTENSIONS = ['.vtt', '.webvtt', '.srt', '.ttml', '.dfxp'];
const KEY_EXTENSIONS = ['.key'];
/** MPEG-TS segments carry audio and video together in nearly every live ladder. */
const MUXED_EXTENSIONS = ['.ts'];

function endsWithAny(name: string, extensions: readonly string[]): boolean {
  return extensions.some((ext) => name.endsWith(ext));
}

/**
 * `ot`: m playlists and manifests, i init segments, c captions, k keys; for media, a or v when
 * the extension or a path segment says audio or video, av for MPEG-TS; o for other
 * unnumbered objects. Numbered media whose name says nothing of its content gets no `ot`.
 */
export function objectType(object: ObjectPath): CmsdObjectType | undefined {
  const lower = object.path.toLowerCase();
  const name = lower.slice(lower.lastIndexOf('/') + 1);
  if (object.kind === 'mutable') return CmsdObjectType.MANIFEST;
  if (endsWithAny(name, CAPTION_EXTENSIONS)) return CmsdObjectType.CAPTION;
  if (endsWithAny(name, KEY_EXTENSIONS)) return CmsdObjectType.KEY;
  if (object.kind === 'static' && name.startsWith('init')) return CmsdObjectType.INIT;
  const words = lower.split(/[/._-]/);
  if (endsWithAny(name, AUDIO_EXTENSIONS) || words.includes('audio')) return CmsdObjectType.AUDIO;
  if (endsWithAny(name, VIDEO_EXTENSIONS) || words.includes('video')) return CmsdObjectType.VIDEO;
  if (endsWithAny(name, MUXED_EXTENSIONS)) return CmsdObjectType.MUXED;
  return object.kind === 'static' ? CmsdObjectType.OTHER : undefined;
}

/** `sf`: h for HLS playlists, LL-HLS parts and MPEG-TS segments, d for DASH manifests. */
export function streamingFormat(object: ObjectPath): CmsdStreamingFormat | undefined {
  const lower = object.path.toLowerCase();
  if (lower.endsWith('.m3u8') || lower.endsWith('.ts') || object.part !== undefined) return CmsdStreamingFormat.HLS;
  if (lower.endsWith('.mpd')) return CmsdStreamingFormat.DASH;
  return undefined;
}

const PART_NAME = /(\d+)\.(\d+)(\.[^.]*)$/;

/**
 * `nor`: the next object of numbered media, relative to this one (same directory, so its file
 * name), URL-encoded. For a segment, number + 1; for a part named `<msn>.<part>`, the next part
 * of the same segment (the packager decides when a segment ends, so the last part's `nor`
 * names a part that never comes: a prefetch of it is a hold that ends in 404/410).
 */
export function nextObjectRequest(object: ObjectPath): string | undefined {
  if (object.kind !== 'segment' || object.number === undefined || object.rendition === undefined) return undefined;
  const name = object.path.slice(object.path.lastIndexOf('/') + 1);
  if (object.part !== undefined) {
    const match = PART_NAME.exec(name);
    if (!match || Number(match[1]) !== object.number) return undefined;
    const next = `${name.slice(0, match.index)}${match[1]}.${object.part + 1}${match[3]}`;
    return encodeURIComponent(next);
  }
  const nextPath = renditionPath(object.rendition, object.number + 1, object.width ?? 0);
  if (nextPath === object.path) return undefined;
  return encodeURIComponent(nextPath.slice(nextPath.lastIndexOf('/') + 1));
}

export interface CmsdFacts {
  readonly object: ObjectPath;
  /** Segment duration of the object's timeline, when known (given for whole segments only). */
  readonly segmentDurationMs?: number;
  /** When the object became (or, on a 404, is expected to become) available: epoch ms. */
  readonly availableAt?: number;
  /** How long the origin held this request before answering. */
  readonly heldMs?: number;
}

/** The CMSD-Static value for a delivery response. */
export function cmsdStatic(facts: CmsdFacts): string {
  const { object } = facts;
  const value: CmsdStatic = { st: CmsdStreamType.LIVE };
  const ot = objectType(object);
  if (ot !== undefined) value.ot = ot;
  const sf = streamingFormat(object);
  if (sf !== undefined) value.sf = sf;
  if (object.kind === 'segment' && object.part === undefined && facts.segmentDurationMs !== undefined) {
    value.d = Math.round(facts.segmentDurationMs);
  }
  const nor = nextObjectRequest(object);
  if (nor !== undefined) value.nor = nor;
  if (facts.availableAt !== undefined) value.at = Math.round(facts.availableAt);
  if (facts.heldMs !== undefined && facts.heldMs > 0) value.ht = Math.round(facts.heldMs);
  return encodeCmsdStatic(value);
}

/** The CMSD-Dynamic value while the origin sheds load (`du`), else undefined. */
export function cmsdDynamic(duress: boolean): string | undefined {
  if (!duress) return undefined;
  // The library's typings name the whole item, but its encoder takes the parameters here.
  return encodeCmsdDynamic(CMSD_SERVER_ID, { du: true } as unknown as CmsdDynamic);
}

/** Duress stays signalled this long after the origin last shed a request. */
export const DURESS_LINGER_MS = 1_000;

/** Whether the origin is shedding: true from a shed until DURESS_LINGER_MS after the last one. */
export class DuressWindow {
  private lastShedAt = -Infinity;

  mark(nowMs: number): void {
    this.lastShedAt = nowMs;
  }

  active(nowMs: number): boolean {
    return nowMs - this.lastShedAt <= DURESS_LINGER_MS;
  }
}
