import type { RenditionDeclaration, RenditionState } from './model.js';
import type { Listing } from './playlist-listing.js';

/**
 * A stored declaration is rewritten only when the playlist's moves by more than this fraction:
 * packagers update playlists several times a segment, and a median EXTINF that wanders by a
 * few ms (29.97 fps, GOPs cut at frame boundaries) must not cost a store write each time.
 */
export const DECLARED_CHANGE_RATIO = 0.05;

function moved(stored: number | undefined, declared: number | undefined): boolean {
  if (stored === undefined || declared === undefined) return stored !== declared;
  return Math.abs(declared - stored) > stored * DECLARED_CHANGE_RATIO;
}

/**
 * What a newly ingested playlist changes in the renditions' declarations: the renditions it
 * lists that no playlist declared yet, or whose declared duration moved. Usually nothing, so a
 * playlist update writes nothing more than itself. A rendition keeps the playlist that declared
 * it first while the durations agree: a packager writing an HLS playlist and a DASH manifest
 * over the same segments would otherwise move it back and forth on every update.
 */
export function declarationsToRecord(renditions: Readonly<Record<string, RenditionState>>, playlist: string, listing: Listing): RenditionDeclaration[] {
  const changed: RenditionDeclaration[] = [];
  for (const listed of listing.renditions.values()) {
    const known = renditions[listed.rendition];
    if (known?.playlist !== undefined && !moved(known.declaredMs, listed.declaredMs)) continue;
    changed.push({ rendition: listed.rendition, playlist, ...(listed.declaredMs === undefined ? {} : { declaredMs: listed.declaredMs }) });
  }
  return changed;
}
