import type { InProgressCandidate } from '../domain/model.js';

/**
 * Tells held requests that an object was published, on this instance or on any other.
 * The hold registry watches each awaited object once (however many requests wait for it) and
 * is called back once per publish.
 */
export interface PublishedObject {
  readonly event: string;
  readonly path: string;
}

export type PublishListener = (object: PublishedObject) => void;

/**
 * A PUT another instance is receiving (serving while ingesting across instances): its bytes so
 * far, then each chunk, can be read from `relay` on that instance until the PUT ends.
 */
export interface ArrivingElsewhere {
  readonly candidate: InProgressCandidate;
  /** The URL that streams it (GET), on the private network between instances. */
  readonly relay: string;
}

export interface PublishFeed {
  /** Announces a publish acknowledged by this instance (listeners here are told at once). */
  announce(object: PublishedObject): void;
  /**
   * Start reporting publishes of this object, including ones made by other instances. A
   * publish is what the ingest does: the candidate, then `MetadataStore.recordPublish` (a
   * feed across instances may learn of numbered objects from those records), then `announce`.
   */
  watch(object: PublishedObject): void;
  unwatch(object: PublishedObject): void;
  subscribe(listener: PublishListener): void;
  /**
   * A PUT began on this instance: other instances' held requests for its object wake, and may
   * relay its bytes from `relay` while it arrives. A feed of one instance does nothing.
   */
  streamStarted(candidate: InProgressCandidate, relay: string): void;
  /** That PUT ended (acknowledged or failed): nobody should start relaying it. */
  streamEnded(candidate: InProgressCandidate, relay: string): void;
  /** PUTs other instances are receiving for a watched object, as the feed last saw them. */
  arriving(object: PublishedObject): readonly ArrivingElsewhere[];
  close(): Promise<void>;
}
