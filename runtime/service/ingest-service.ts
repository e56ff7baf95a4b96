import { declarationsToRecord } from '../domain/declared-durations.js';
import { parseDefects } from '../domain/defects.js';
import { OriginError } from '../domain/errors.js';
import type { Candidate, EventState, InProgressCandidate } from '../domain/model.js';
import type { ObjectPath } from '../domain/object-path.js';
import { parseObjectPath } from '../domain/object-path.js';
import { listsObject, readListing } from '../domain/playlist-listing.js';
import { FULL_QUALITY, parseQuality, qualityOf } from '../domain/quality.js';
import { servedChanged } from '../domain/selection.js';
import { judgeMissing, timelineFor } from '../domain/timing.js';
import type { ObjectRecord } from '../ports/metadata-store.js';
import type { SegmentKey, StoredBytes } from '../ports/segment-store.js';
import type { ServiceContext } from './context.js';
import type { IngestStream } from './ingest-stream.js';
import { currentSelection } from './object-view.js';
import { servedListing } from './served-listing.js';
import { storeCall } from './store-call.js';

export interface IngestPut {
  readonly event: string;
  readonly pipeline: string;
  readonly object: ObjectPath;
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
  readonly defects: readonly string[];
  /** `Live-Quality`, 0-100; absent: 100. */
  readonly quality?: number;
  readonly notifications: Readonly<Record<string, string>>;
}

export interface IngestResult {
  readonly status: 200 | 201;
  readonly etag: string;
}

/** What a PUT declares before its body: enough to serve it while the body arrives. */
export type IngestStart = Pick<InProgressCandidate, 'event' | 'pipeline' | 'contentType' | 'declaredSize' | 'defects' | 'quality'> & {
  readonly object: ObjectPath;
};

/**
 * Publishing: bytes first, then notifications, then the candidate record, so metadata never
 * names bytes that are not durable and a refused PUT leaves no candidate; then stats,
 * held-request release and CDN purges.
 */
export class IngestService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Opens the PUT's stream once its headers are accepted: delivery may serve its bytes from the
   * first one. Segments, parts and static objects stream; a playlist or manifest is served whole
   * (a partial one is no playlist, and the previous version is a good answer meanwhile).
   */
  begin(start: IngestStart): IngestStream | undefined {
    const { object } = start;
    if (object.kind === 'mutable') return undefined;
    const stream = this.ctx.streams.start({
      event: start.event,
      pipeline: start.pipeline,
      path: object.path,
      kind: object.kind,
      number: object.number,
      rendition: object.rendition,
      contentType: start.contentType,
      declaredSize: start.declaredSize,
      defects: start.defects,
      quality: start.quality ?? FULL_QUALITY,
      startedAt: this.ctx.clock.now(),
      inProgress: true,
    });
    // Other instances' held requests wake and relay it (a record in the shared metadata).
    const relay = this.ctx.streams.relayUrl(stream);
    if (relay !== undefined) this.ctx.stores.feed.streamStarted(stream.candidate, relay);
    return stream;
  }

  /** The stream ended (acknowledged or failed): its record is withdrawn. */
  private streamEnded(stream: IngestStream): void {
    const relay = this.ctx.streams.relayUrl(stream);
    if (relay !== undefined) this.ctx.stores.feed.streamEnded(stream.candidate, relay);
  }

  /**
   * A PUT that failed before its ack (its body broke off, or the store refused it): every answer
   * streaming it is cut, and the pin it took at its first byte is given up, so waiting and later
   * requests get the next candidate from byte 0.
   */
  abandon(stream: IngestStream): void {
    if (stream.state === 'complete' || stream.state === 'failed') return;
    stream.markFailed();
    this.streamEnded(stream);
    this.ctx.metrics.streamEnded('failed');
    if (!stream.served) return;
    const { event, pipeline, path } = stream.candidate;
    const { metadata } = this.ctx.stores;
    void (async () => {
      // The pipeline's pin stands if it has a complete version (an earlier PUT of the object).
      const record = await metadata.getObject(event, path);
      if (!record.candidates.some((c) => c.pipeline === pipeline)) await metadata.dropPin(event, path, pipeline);
    })().catch((error: unknown) => this.ctx.log.warn({ err: error, event, pipeline, path }, 'could not drop the pin of a failed stream'));
  }

  /** Publishes the object; with its stream, completes it on the ack or abandons it on failure. */
  async put(input: IngestPut, stream?: IngestStream): Promise<IngestResult> {
    stream?.markReceived();
    try {
      const { result, candidate } = await this.publish(input, stream);
      if (stream) {
        stream.markComplete(candidate);
        this.streamEnded(stream);
        this.ctx.metrics.streamEnded('complete');
      }
      return result;
    } catch (error) {
      if (stream) this.abandon(stream);
      throw error;
    }
  }

  private async publish(input: IngestPut, stream?: IngestStream): Promise<{ result: IngestResult; candidate: Candidate }> {
    const { stores, metrics } = this.ctx;
    const now = this.ctx.clock.now();
    const { event, pipeline, object } = input;
    let [state, before] = await this.readBefore('ingest', event, object.path);
    if (!state) {
      // Events are created on first ingest; later PUTs skip this write.
      await storeCall('ingest', () => stores.metadata.ensureEvent(event, now));
      state = await storeCall('ingest', () => stores.metadata.getEvent(event));
    }
    const previous = before.candidates.find((c) => c.pipeline === pipeline);
    const quality = input.quality ?? FULL_QUALITY;

    if (previous?.etag === input.etag) {
      // The same bytes again with other defects or another score: the PUT revises them, as a PATCH would.
      const change = {
        defects: previous.defects.join(',') !== input.defects.join(',') ? input.defects : undefined,
        quality: qualityOf(previous) !== quality ? quality : undefined,
      };
      if (change.defects !== undefined || change.quality !== undefined) {
        await this.applyChanges(event, pipeline, object.path, change, [state, before]);
      }
      await this.notify(event, input.notifications);
      metrics.ingest(pipeline, 'identical', input.body.length, []);
      return { result: { status: 200, etag: input.etag }, candidate: previous };
    }

    const candidate: Candidate = {
      event,
      pipeline,
      path: object.path,
      kind: object.kind,
      number: object.number,
      rendition: object.rendition,
      etag: input.etag,
      size: input.body.length,
      contentType: input.contentType,
      defects: input.defects,
      quality,
      publishedAt: now,
    };
    const key = { event, pipeline, path: object.path };
    // A replacement overwrites the bytes the current candidate names: keep them to put back if
    // the rest of this PUT fails, so a refused PUT leaves the old version served, not the new.
    const replaced = previous ? await storeCall('ingest', () => stores.segments.get(key, previous.etag)) : undefined;
    await storeCall('ingest', () => stores.segments.put(key, input.body, { contentType: input.contentType, etag: input.etag }));
    try {
      // Notifications go before the candidate: a retried PUT re-applies the same values, while a
      // candidate written first would stay visible if this write then failed and the PUT got 503.
      await this.notify(event, input.notifications);
      await storeCall('ingest', () => stores.metadata.putCandidate(candidate));
    } catch (error) {
      if (replaced) await this.restore(key, replaced);
      throw error;
    }
    try {
      await stores.metadata.recordPublish(event, {
        pipeline,
        at: now,
        number: object.number,
        rendition: object.rendition,
        width: object.width,
        defective: input.defects.length > 0,
        // A score describes media: playlists, manifests and init segments carry none worth keeping.
        quality: object.number === undefined ? undefined : quality,
      });
    } catch (error) {
      // Stats and cadence only: the candidate is durable, so the ingest still succeeds.
      this.ctx.log.warn({ err: error, event, pipeline }, 'recording publish stats failed');
    }
    if (object.kind === 'mutable' && state) await this.recordDeclared(state, object.path, input.body, now);
    stores.feed.announce({ event, path: object.path });

    // A playlist or manifest is replaced on every update by design (latest PUT wins): only a
    // numbered or static object replaced with other bytes is a conflict.
    if (previous && object.kind !== 'mutable') metrics.conflictingPut(pipeline);
    metrics.ingest(pipeline, previous ? 'replaced' : 'created', input.body.length, input.defects);
    if (object.number !== undefined) metrics.quality(pipeline, quality);
    if (state) this.purgeIfServedChanged(state, before, candidate, now, stream?.served ? stream.candidate : undefined);
    return { result: { status: previous ? 200 : 201, etag: input.etag }, candidate };
  }

  private async restore(key: SegmentKey, bytes: StoredBytes): Promise<void> {
    try {
      await this.ctx.stores.segments.put(key, bytes.body, { contentType: bytes.contentType, etag: bytes.etag });
    } catch (error) {
      this.ctx.log.error({ err: error, ...key }, 'could not put back the bytes of a refused replacement');
    }
  }

  /** `PATCH`: replaces a candidate's defect set and/or its quality score after publication. */
  async patchDefects(event: string, pipeline: string, path: string, header: string | undefined, qualityHeader?: string): Promise<Candidate> {
    if (header === undefined && qualityHeader === undefined) {
      throw new OriginError('bad_request', 'PATCH needs a Live-Defect header (kinds, or none) or a Live-Quality header (0-100)');
    }
    // Both parsed before anything is written: a bad value changes nothing.
    const change = {
      defects: header === undefined ? undefined : parseDefects(header),
      quality: qualityHeader === undefined ? undefined : parseQuality(qualityHeader),
    };
    const updated = await this.applyChanges(event, pipeline, path, change);
    if (updated) return updated;
    // Its PUT is still arriving: the defects it declared stand until the ack, and a PATCH after it applies.
    if (this.ctx.streams.of(event, path).some((s) => s.candidate.pipeline === pipeline)) {
      throw new OriginError('conflict', 'the candidate is still being ingested; PATCH it once its PUT is acknowledged');
    }
    throw new OriginError('not_found', 'no such candidate');
  }

  /** Operator `GET`/`HEAD` of one pipeline's candidate: its record and its bytes as stored. */
  async inspect(event: string, pipeline: string, path: string): Promise<{ candidate: Candidate; bytes: StoredBytes }> {
    const { metadata, segments } = this.ctx.stores;
    const record = await storeCall('inspect', () => metadata.getObject(event, path));
    const candidate = record.candidates.find((c) => c.pipeline === pipeline);
    const bytes = candidate && (await storeCall('inspect', () => segments.get({ event, pipeline, path }, candidate.etag)));
    if (!candidate || !bytes) throw new OriginError('not_found', 'no such candidate');
    return { candidate, bytes };
  }

  /** Operator `DELETE` of one pipeline's candidate. */
  async delete(event: string, pipeline: string, path: string): Promise<void> {
    const { stores } = this.ctx;
    const [state, before] = await this.readBefore('delete', event, path);
    const removed = await storeCall('delete', () => stores.metadata.deleteCandidate(event, pipeline, path));
    if (!removed) throw new OriginError('not_found', 'no such candidate');
    await storeCall('delete', () => stores.segments.delete({ event, pipeline, path }));
    const after = { candidates: before.candidates.filter((c) => c.pipeline !== pipeline), pinned: before.pinned };
    if (state && (await this.insideLiveWindow(state, path))) this.purgeAfter(state, before, after, event, path);
  }

  /**
   * Whether players may still fetch a deleted object, so caches must follow what the origin now
   * serves for it: anything but a numbered object, or one the served playlist of its rendition
   * lists or names next. A packager deletes what left its window (ffmpeg's delete_segments);
   * nobody fetches that any more, and a purge would only cost (with CloudFront, a billed path
   * per segment, rendition and DELETE). Without a playlist that declared the rendition: inside.
   */
  private async insideLiveWindow(state: EventState, path: string): Promise<boolean> {
    const object = parseObjectPath(path);
    if (object.rendition === undefined || object.number === undefined) return true;
    try {
      const listing = await servedListing(this.ctx, state, object.rendition, 'delete');
      return listing === undefined || listsObject(listing, object);
    } catch (error) {
      // The candidate is gone already: a purge too many is the safe side.
      this.ctx.log.warn({ err: error, event: state.event, path }, 'could not read the served playlist after a delete');
      return true;
    }
  }

  /**
   * A playlist or manifest: records what it declares of the renditions it lists, when that
   * changed (contract v3, timelines from what packagers declare). Like the publish stats, a
   * failure here does not fail the PUT.
   */
  private async recordDeclared(state: EventState, path: string, body: Buffer, now: number): Promise<void> {
    const listing = readListing(path, body, now);
    if (!listing) return;
    const declarations = declarationsToRecord(state.renditions, path, listing);
    if (declarations.length === 0) return;
    try {
      await this.ctx.stores.metadata.recordDeclared(state.event, declarations, now);
    } catch (error) {
      this.ctx.log.warn({ err: error, event: state.event, path }, 'recording declared durations failed');
    }
  }

  /** The event and the object as they are before a change: what the purge decision compares. */
  private readBefore(operation: string, event: string, path: string): Promise<[EventState | undefined, ObjectRecord]> {
    const { metadata } = this.ctx.stores;
    return storeCall(operation, () => Promise.all([metadata.getEvent(event), metadata.getObject(event, path)]));
  }

  /** Replaces a candidate's defects and/or score; purges the path when what the CDN may hold changed. */
  private async applyChanges(
    event: string,
    pipeline: string,
    path: string,
    change: { readonly defects?: readonly string[]; readonly quality?: number },
    known?: [EventState | undefined, ObjectRecord],
  ): Promise<Candidate | undefined> {
    const { stores } = this.ctx;
    const [state, before] = known ?? (await this.readBefore('defects', event, path));
    const { defects, quality } = change;
    let updated: Candidate | undefined;
    if (defects !== undefined) {
      updated = await storeCall('defects', () => stores.metadata.setDefects(event, pipeline, path, defects));
      if (!updated) return undefined;
    }
    if (quality !== undefined) {
      updated = await storeCall('quality', () => stores.metadata.setQuality(event, pipeline, path, quality));
      if (!updated) return undefined;
    }
    if (!updated) return undefined;
    const previous = before.candidates.find((c) => c.pipeline === pipeline);
    if (defects !== undefined)
      this.ctx.metrics.defect(
        pipeline,
        defects.filter((kind) => !previous?.defects.includes(kind)),
      );
    if (state) {
      const after = before.candidates.map((c) => (c.pipeline === pipeline ? updated : c));
      this.purgeAfter(state, before, { candidates: after, pinned: before.pinned }, event, path);
    }
    return updated;
  }

  private async notify(event: string, notifications: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(notifications).length === 0) return;
    await storeCall('notifications', () => this.ctx.stores.metadata.mergeNotifications(event, notifications));
  }

  /**
   * A new candidate only matters to the CDN if something was served for the path (pinned)
   * and the answer changes, or if it arrives after the segment was declared gone (410 cached).
   * `streamed`: this PUT's own bytes, when they were served while arriving (the CDN may hold
   * exactly them: not a change).
   */
  private purgeIfServedChanged(state: EventState, before: ObjectRecord, candidate: Candidate, now: number, streamed?: InProgressCandidate): void {
    // Playlists change with every segment and live half a segment duration in caches: purging each
    // update would send a purge per rendition every segment to every CDN node (with CloudFront, a
    // billed invalidation path each). Defects, masks and deletes still purge them.
    if (candidate.kind === 'mutable') return;
    const after = { candidates: [...before.candidates.filter((c) => c.pipeline !== candidate.pipeline), candidate], pinned: before.pinned };
    if (before.candidates.length === 0 && candidate.number !== undefined) {
      const timeline = timelineFor(state.config, candidate.rendition ? state.renditions[candidate.rendition] : undefined);
      if (timeline && judgeMissing(timeline, candidate.number, now).kind === 'gone') {
        this.ctx.purger.purge(candidate.event, [candidate.path]);
        return;
      }
    }
    const served = streamed ? { candidates: [...before.candidates, streamed], pinned: before.pinned } : before;
    this.purgeAfter(state, served, after, candidate.event, candidate.path);
  }

  private purgeAfter(
    state: EventState,
    before: { readonly candidates: readonly (Candidate | InProgressCandidate)[]; readonly pinned?: string },
    after: ObjectRecord,
    event: string,
    path: string,
  ): void {
    if (before.pinned === undefined) return;
    if (servedChanged(currentSelection(state, before), currentSelection(state, after))) {
      this.ctx.purger.purge(event, [path]);
    }
  }
}
