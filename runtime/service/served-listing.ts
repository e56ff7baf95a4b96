import type { EventState } from '../domain/model.js';
import type { Listing } from '../domain/playlist-listing.js';
import { readListing } from '../domain/playlist-listing.js';
import type { ServiceContext } from './context.js';
import { currentSelection, stalePipelines } from './object-view.js';
import { storeCall } from './store-call.js';

/**
 * What the playlist or manifest the origin serves for a rendition lists: the one that declared
 * the rendition, selected as delivery selects it (pin, stale pipelines passed over) but without
 * taking a pin. Read only where an answer depends on it (a 410, a purge after a DELETE), never
 * on the path of an ordinary GET. Undefined when no playlist declared the rendition, or the
 * served one is not there.
 */
export async function servedListing(ctx: ServiceContext, state: EventState, rendition: string, operation: string): Promise<Listing | undefined> {
  const playlist = state.renditions[rendition]?.playlist;
  if (playlist === undefined) return undefined;
  const { metadata, segments } = ctx.stores;
  const now = ctx.clock.now();
  const record = await storeCall(operation, () => metadata.getObject(state.event, playlist));
  const served = currentSelection(state, record, stalePipelines(state, now)).chosen;
  if (!served) return undefined;
  const bytes = await storeCall(operation, () => segments.get({ event: state.event, pipeline: served.pipeline, path: playlist }, served.etag));
  return bytes && readListing(playlist, bytes.body, now);
}
