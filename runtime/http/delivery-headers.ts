import { CMSD_STATIC_HEADER, cmsdStatic } from '../domain/cmsd.js';
import { corsExposeHeaders } from '../domain/cors.js';
import type { Candidate, InProgressCandidate } from '../domain/model.js';
import type { Notifications } from '../domain/notifications.js';
import { notificationHeaders } from '../domain/notifications.js';
import type { ObjectPath } from '../domain/object-path.js';
import { qualityOf } from '../domain/quality.js';
import { ttlHeaders } from '../domain/ttl.js';
import type { StoredBytes } from '../ports/segment-store.js';

/**
 * Response headers of delivery, assembled once and reused. A served candidate's headers change
 * only when its bytes, its TTL, the forwarded defects or the event's notifications change (its
 * score is the candidate's own: a new score is a new candidate record), so
 * they are kept per candidate as a ready `writeHead` list and rebuilt only when one of those
 * inputs is no longer the same. Each header's value still comes from the domain rules
 * (`ttlHeaders`, `notificationHeaders`), so nothing here decides what a header says.
 */

/** A raw header list for `writeHead`: name, value, name, value, ... (no per-call object or header map). */
export type RawHeaders = readonly string[];

/** What a served object's headers are computed from; a block is reused only while all are the same. */
export interface BlockInputs {
  readonly bytes: StoredBytes;
  readonly notifications: Notifications;
  readonly ttlMs: number;
  readonly immutable: boolean;
  /** `Live-Defect` value, '' when the served candidate is clean. */
  readonly defects: string;
  /** The requested object as parsed (one object per path), and its timeline's segment duration: CMSD-Static. */
  readonly object: ObjectPath;
  readonly durationMs: number | undefined;
}

/**
 * The inputs a block was made from, without the body: a block lives as long as its candidate
 * (the whole window), and holding the bytes there would keep every served body in memory past
 * the store's byte cap (found by the soak, docs/reliability.md). The headers need only these.
 */
export type BlockKey = Omit<BlockInputs, 'bytes'> & { readonly etag: string; readonly contentType: string; readonly size: number };

/** Ready header lists for one served candidate. */
export interface HeaderBlock {
  readonly inputs: BlockKey;
  /** 304, and the start of every other answer for this candidate. */
  readonly common: RawHeaders;
  /** 200 with the whole body: `common` plus Content-Type and Content-Length. */
  readonly full: RawHeaders;
}

/** The JSON body type of delivery's non-object answers (as Fastify sends JSON). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export class DeliveryHeaders {
  private readonly blocks = new WeakMap<Candidate, HeaderBlock>();
  private readonly notified = new WeakMap<Notifications, RawHeaders>();

  /** `fixed`: headers every delivery response carries, the same for every request (set from configuration). */
  constructor(private readonly fixed: RawHeaders = []) {}

  /** The headers of a served candidate, from the cache while its inputs are unchanged. */
  forObject(candidate: Candidate, inputs: BlockInputs): HeaderBlock {
    const cached = this.blocks.get(candidate);
    if (cached && sameInputs(cached.inputs, inputs)) return cached;
    const common = [
      ...this.fixed,
      ...this.eventHeaders(inputs.notifications),
      ...record(ttlHeaders(inputs.ttlMs, inputs.immutable)),
      'ETag',
      inputs.bytes.etag,
      'Last-Modified',
      new Date(candidate.publishedAt).toUTCString(),
      'Live-Pipeline',
      candidate.pipeline,
      'Live-Quality',
      String(qualityOf(candidate)),
      'Accept-Ranges',
      'bytes',
      CMSD_STATIC_HEADER,
      cmsdStatic({ object: inputs.object, segmentDurationMs: inputs.durationMs, availableAt: candidate.publishedAt }),
    ];
    if (inputs.defects !== '') common.push('Live-Defect', inputs.defects);
    const full = [...common, 'Content-Type', inputs.bytes.contentType, 'Content-Length', String(inputs.bytes.body.length)];
    const { bytes, ...rest } = inputs;
    const block = { inputs: { ...rest, etag: bytes.etag, contentType: bytes.contentType, size: bytes.body.length }, common, full };
    this.blocks.set(candidate, block);
    return block;
  }

  /**
   * The headers of an answer streaming an object still being ingested: as a served object's,
   * without what is not known before its last byte (ETag; Content-Length unless the PUT
   * declared it, added by the writer), and without Accept-Ranges (ranges of it are not served).
   */
  forStream(candidate: InProgressCandidate, inputs: Omit<BlockInputs, 'bytes'>, cmsd: string): string[] {
    const raw = [
      ...this.fixed,
      ...this.eventHeaders(inputs.notifications),
      ...record(ttlHeaders(inputs.ttlMs, inputs.immutable)),
      'Last-Modified',
      new Date(candidate.startedAt).toUTCString(),
      'Live-Pipeline',
      candidate.pipeline,
      'Live-Quality',
      String(qualityOf(candidate)),
      CMSD_STATIC_HEADER,
      cmsd,
      'Content-Type',
      candidate.contentType,
    ];
    if (inputs.defects !== '') raw.push('Live-Defect', inputs.defects);
    return raw;
  }

  /**
   * The headers of an answer without an object (404, 410, 503): notifications (if the event is
   * known), TTLs, and the CMSD-Static value the caller built for it (its `at`/`ht` are per request).
   */
  forMiss(notifications: Notifications | undefined, ttlMs: number, cmsd?: string): string[] {
    const raw = [...this.fixed, ...(notifications ? this.eventHeaders(notifications) : NO_EVENT_HEADERS), ...record(ttlHeaders(ttlMs, false))];
    if (cmsd !== undefined) raw.push(CMSD_STATIC_HEADER, cmsd);
    return raw;
  }

  /** The headers of an error answer (400, 403, a store's 503): the fixed ones and what a page may read. */
  forError(): string[] {
    return [...this.fixed, ...NO_EVENT_HEADERS];
  }

  /**
   * `Live-Notify-*` of an event, and the CORS `Access-Control-Expose-Headers` that names them
   * among the origin's other headers; kept per notifications object (stores replace it on every change).
   */
  private eventHeaders(notifications: Notifications): RawHeaders {
    let headers = this.notified.get(notifications);
    if (!headers) {
      const notify = notificationHeaders(notifications);
      headers = [...record(notify), 'Access-Control-Expose-Headers', corsExposeHeaders(Object.keys(notify))];
      this.notified.set(notifications, headers);
    }
    return headers;
  }
}

/** An answer for no known event still tells a page which headers it may read. */
const NO_EVENT_HEADERS: RawHeaders = ['Access-Control-Expose-Headers', corsExposeHeaders()];

function sameInputs(a: BlockKey, b: BlockInputs): boolean {
  return (
    a.etag === b.bytes.etag &&
    a.contentType === b.bytes.contentType &&
    a.size === b.bytes.body.length &&
    a.notifications === b.notifications &&
    a.ttlMs === b.ttlMs &&
    a.immutable === b.immutable &&
    a.defects === b.defects &&
    a.object === b.object &&
    a.durationMs === b.durationMs
  );
}

function record(headers: Readonly<Record<string, string>>): string[] {
  const raw: string[] = [];
  for (const name in headers) raw.push(name, headers[name]!);
  return raw;
}
