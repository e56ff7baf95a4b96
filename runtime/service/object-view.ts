import type { EventState } from '../domain/model.js';
import type { Selection } from '../domain/selection.js';
import { selectCandidate } from '../domain/selection.js';
import type { ObjectRecord } from '../ports/metadata-store.js';

/** The selection currently in force for a path, honouring its pin. */
export function currentSelection(state: EventState, record: ObjectRecord): Selection {
  return selectCandidate({
    candidates: record.candidates,
    order: state.config.pipelines,
    masks: state.masks,
    pinned: record.pinned,
  });
}
