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
  close(): Promise<void>;
}
