/**
 * Where object bytes live. Keys are `{event}/{pipeline}/{path}`, so a URL maps to its object
 * with no lookup. Objects are bounded by LIVE_ORIGIN_MAX_OBJECT_BYTES and handed over whole:
 * the ingest path has already counted and hashed them, and the hot cache keeps them as they are.
 */
export interface SegmentKey {
  readonly event: string;
  readonly pipeline: string;
  readonly path: string;
}

export interface StoredBytes {
  readonly body: Buffer;
  readonly contentType: string;
  /** Quoted strong entity tag, as given to put. */
  readonly etag: string;
}

export interface SegmentStore {
  /** Durably stores the bytes; resolves only once they are durable. Overwrites an earlier put. */
  put(key: SegmentKey, body: Buffer, meta: { readonly contentType: string; readonly etag: string }): Promise<void>;
  /**
   * The bytes, or undefined if absent (never stored, deleted or evicted). `expectEtag` is the
   * version the metadata names: a caching store that holds another version must fetch again.
   */
  get(key: SegmentKey, expectEtag?: string): Promise<StoredBytes | undefined>;
  /** Removes the object; absent objects are not an error. */
  delete(key: SegmentKey): Promise<void>;
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function segmentKeyString(key: SegmentKey): string {
  return `${key.event}/${key.pipeline}/${key.path}`;
}
