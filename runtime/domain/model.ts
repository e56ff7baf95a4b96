import type { ObjectKind } from './object-path.js';

/**
 * The plain data the origin keeps. Stores persist these shapes; domain functions decide over them.
 */

/** One pipeline's published version of one object. */
export interface Candidate {
  readonly event: string;
  readonly pipeline: string;
  readonly path: string;
  readonly kind: ObjectKind;
  readonly number?: number;
  readonly rendition?: string;
  /** Strong entity tag of the bytes, quoted (`"<md5 hex>"`). */
  readonly etag: string;
  readonly size: number;
  readonly contentType: string;
  /** Defect kinds from the packager (empty: clean). */
  readonly defects: readonly string[];
  /** The packager's quality score, 0-100 (`Live-Quality`); absent (records from before scores): 100. */
  readonly quality?: number;
  /** Epoch ms when this version was acknowledged. */
  readonly publishedAt: number;
}

/**
 * One pipeline's version of an object whose PUT is still arriving (contract v3: a segment is
 * served from its first byte). It has no entity tag yet: the bytes are hashed as they come.
 */
export interface InProgressCandidate {
  readonly event: string;
  readonly pipeline: string;
  readonly path: string;
  readonly kind: ObjectKind;
  readonly number?: number;
  readonly rendition?: string;
  readonly contentType: string;
  /** The PUT's Content-Length, when it declared one. */
  readonly declaredSize?: number;
  /** Defect kinds the PUT declared (empty: clean). */
  readonly defects: readonly string[];
  /** The quality score the PUT declared (`Live-Quality`); absent: 100. */
  readonly quality?: number;
  /** Epoch ms when the PUT's headers were accepted. */
  readonly startedAt: number;
  readonly inProgress: true;
}

/** Operator configuration of an event (`PUT /admin/events/{event}`); all optional. */
export interface EventConfig {
  /** Pipeline selection order; pipelines not listed follow, sorted by id. */
  readonly pipelines?: readonly string[];
  readonly segmentDurationMs?: number;
  /** Epoch ms of the availability start time. */
  readonly availabilityStartTime?: number;
  readonly startNumber?: number;
  readonly holdGraceMs?: number;
  readonly windowSegments?: number;
  /** Candidates scoring below this count as defective (`low-quality`); default 0. */
  readonly minQuality?: number;
  /** How long a path's first release may wait for a better candidate; default min(250 ms, D/8). */
  readonly betterWaitMs?: number;
}

/** Masks hide candidates from selection: a number range (every rendition) and/or listed paths. */
export interface Mask {
  readonly from?: number;
  readonly to?: number;
  readonly paths?: readonly string[];
  /** Only this pipeline's candidates; all pipelines when absent. */
  readonly pipeline?: string;
  readonly createdAt: number;
}

/** What an instance knows of one pipeline of an event (for status, health and metrics). */
export interface PipelineState {
  readonly pipeline: string;
  readonly lastIngestAt: number;
  /** Highest segment number ingested. */
  readonly edge?: number;
  readonly ingests: number;
  readonly defective: number;
  /** Quality scores of its latest numbered ingests, oldest first (at most QUALITY_HISTORY). */
  readonly recentQuality?: readonly number[];
}

/** Recent first-publish times of one rendition, for cadence inference and range purges. */
export interface RenditionState {
  readonly rendition: string;
  readonly width: number;
  /**
   * [segment number, epoch ms of its first publish by any pipeline], ascending by number; the
   * RENDITION_HISTORY most recent first publishes (by time, so a packager restarted at lower
   * numbers is followed).
   */
  readonly recent: readonly (readonly [number, number])[];
  /**
   * The time between consecutive numbers that the packager declares in the playlist or manifest
   * listing this rendition (EXTINF, DASH SegmentTemplate@duration, ...), ms: the inferred cadence
   * is never shorter.
   */
  readonly declaredMs?: number;
  /** Path of the playlist or manifest that declared it: its served version says what is listed. */
  readonly playlist?: string;
}

/** What a playlist or manifest declares of one rendition it lists (MetadataStore.recordDeclared). */
export interface RenditionDeclaration {
  readonly rendition: string;
  readonly playlist: string;
  readonly declaredMs?: number;
}

/** Everything event-level the delivery path needs, read at once. */
export interface EventState {
  readonly event: string;
  readonly createdAt: number;
  readonly config: EventConfig;
  readonly notifications: Readonly<Record<string, string>>;
  readonly masks: readonly Mask[];
  readonly pipelines: Readonly<Record<string, PipelineState>>;
  readonly renditions: Readonly<Record<string, RenditionState>>;
}

/** How many first-publish times a rendition keeps for cadence inference. */
export const RENDITION_HISTORY = 16;
