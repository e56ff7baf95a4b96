import type { Candidate, EventConfig, EventState, Mask, RenditionDeclaration } from '../domain/model.js';

/**
 * Candidates, pinned selections, masks, notifications and event config. Writes resolve only
 * once durable. Implementations may serve reads from a cache at most one second stale
 * (the contract's cross-instance read bound), except where a method says otherwise.
 */

export interface ObjectRecord {
  /** Every pipeline's candidate for the path, in no particular order. */
  readonly candidates: readonly Candidate[];
  /** Pipeline pinned for this path (first served), if any. */
  readonly pinned?: string;
}

export interface ObjectReadOptions {
  /** Read the store, not a cache. */
  readonly fresh?: boolean;
}

export interface PublishInfo {
  readonly pipeline: string;
  readonly at: number;
  readonly number?: number;
  readonly rendition?: string;
  readonly width?: number;
  readonly defective: boolean;
  /** The score of a numbered object (segment, part), kept in the pipeline's recent scores. */
  readonly quality?: number;
}

export interface MetadataStore {
  /** The event's state, or undefined for an unknown event. */
  getEvent(event: string): Promise<EventState | undefined>;
  /** Creates the event with default config if it does not exist; returns whether it was created. */
  ensureEvent(event: string, at: number): Promise<boolean>;
  /** Replaces the event's config, creating the event if needed; returns whether it was created. */
  putEventConfig(event: string, config: EventConfig, at: number): Promise<boolean>;
  /** Applies notification updates: latest value per name wins, empty value removes. Returns the result. */
  mergeNotifications(event: string, update: Readonly<Record<string, string>>): Promise<Readonly<Record<string, string>>>;
  addMask(event: string, mask: Mask): Promise<void>;
  /**
   * Updates pipeline stats (its recent quality scores among them, the newest QUALITY_HISTORY
   * kept) and rendition cadence after a successful ingest.
   */
  recordPublish(event: string, info: PublishInfo): Promise<void>;
  /**
   * Records what a playlist or manifest declares of the renditions it lists (their declared
   * duration and the playlist's path), replacing earlier declarations of those renditions;
   * creates a rendition not yet published. `at` is when (epoch ms), for retention.
   */
  recordDeclared(event: string, declarations: readonly RenditionDeclaration[], at: number): Promise<void>;

  /**
   * Every candidate of one object and its pin. Must read its own instance's writes at once.
   * `fresh`: read the store itself, not a cache (a path's first selection whose record lacks a
   * copy the event says was published: it is about to pin for good).
   */
  getObject(event: string, path: string, options?: ObjectReadOptions): Promise<ObjectRecord>;
  /** Inserts or replaces one pipeline's candidate; returns the candidate it replaced. */
  putCandidate(candidate: Candidate): Promise<Candidate | undefined>;
  /** Replaces a candidate's defect set; returns the updated candidate, or undefined if absent. */
  setDefects(event: string, pipeline: string, path: string, defects: readonly string[]): Promise<Candidate | undefined>;
  /** Replaces a candidate's quality score; returns the updated candidate, or undefined if absent. */
  setQuality(event: string, pipeline: string, path: string, quality: number): Promise<Candidate | undefined>;
  /** Removes a candidate; returns it, or undefined if absent. */
  deleteCandidate(event: string, pipeline: string, path: string): Promise<Candidate | undefined>;
  /**
   * Compare-and-set of the pinned pipeline: sets `next` only if the current pin equals
   * `expected` (undefined: no pin). Returns the pin in force afterwards, so concurrent
   * instances converge on one winner.
   */
  swapPin(event: string, path: string, expected: string | undefined, next: string): Promise<string>;
  /**
   * Removes the path's pin only if it is `expected` (compare-and-delete): a streamed candidate
   * whose PUT failed before its ack gives up the pin it took at its first byte.
   */
  dropPin(event: string, path: string, expected: string): Promise<void>;
  /** Drops every pin of the event (whole-event flush: selection starts afresh). */
  clearPins(event: string): Promise<void>;

  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
