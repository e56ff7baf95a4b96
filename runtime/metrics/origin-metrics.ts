// Over 400 lines on purpose: the origin's whole Prometheus surface in one registry, mostly metric
// declarations, so every name and label set is read in one place.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FirstSelection } from '../domain/better-wait.js';
import type { AlarmSignals, AlarmSnapshot } from '../ports/alarm-signals.js';
import type { PipelineHealthEntry, ServiceMetrics } from '../ports/service-metrics.js';
import type { StoreObserver } from '../ports/store-observer.js';
import { DeferredCounts } from './deferred-counts.js';
import { LocalHistogram } from './local-histogram.js';

/**
 * Answers the origin did not mean: its store failed it, or it failed itself. Every other 5xx is
 * a decision (shedding under load, draining, a blocking reload that ran out of time) and, like
 * a hold's 404, says nothing about whether the region can serve.
 */
export const UNSERVED_ERROR_CODES: ReadonlySet<string> = new Set(['store_unavailable', 'internal']);

/** Routes that are not service: health checks and scrapes would dilute the error ratio. */
const OPS_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8];
/** Quality scores are integers 0-100: `le="99"` counts every copy below full quality, `le="80"` the poor ones. */
const QUALITY_BUCKETS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 99, 100];

/**
 * Every series the origin exports (`GET /metrics`), all prefixed `live_origin_`, and the
 * alarm signals the CloudWatch publisher reads from them.
 */
export class OriginMetrics implements AlarmSignals, ServiceMetrics {
  readonly registry = new Registry();

  private readonly deferredRequests = new DeferredCounts();
  private readonly deferredSelections = new DeferredCounts();
  private readonly deferredIngests = new DeferredCounts();
  private readonly deferredIngestBytes = new DeferredCounts();

  readonly requests: Counter<'route' | 'method' | 'status'> = new Counter({
    name: 'live_origin_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
    collect: () => this.deferredRequests.flushInto(this.requests),
  });
  /** Observed on every request: a local histogram (no label hashing per observation). */
  readonly requestSeconds = new LocalHistogram(
    'live_origin_request_duration_seconds',
    'HTTP request latency by route (held requests include their wait)',
    ['route'],
    LATENCY_BUCKETS,
    this.registry,
  );
  /** Counted per PUT in plain numbers until collected, like `requests`. */
  readonly ingests: Counter<'pipeline' | 'result'> = new Counter({
    name: 'live_origin_ingests_total',
    help: 'Accepted ingest PUTs by pipeline and result (created, replaced, identical)',
    labelNames: ['pipeline', 'result'] as const,
    registers: [this.registry],
    collect: () => this.deferredIngests.flushInto(this.ingests),
  });
  readonly ingestBytes: Counter<'pipeline'> = new Counter({
    name: 'live_origin_ingest_bytes_total',
    help: 'Bytes accepted by ingest, by pipeline',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
    collect: () => this.deferredIngestBytes.flushInto(this.ingestBytes),
  });
  readonly conflicts = new Counter({
    name: 'live_origin_conflicting_puts_total',
    help: 'Re-PUTs of different bytes for a path a pipeline had already published',
    labelNames: ['pipeline'] as const,
    registers: [this.registry],
  });
  readonly defects = new Counter({
    name: 'live_origin_defects_total',
    help: 'Defects reported by packagers (on PUT or PATCH), by pipeline and kind',
    labelNames: ['pipeline', 'kind'] as const,
    registers: [this.registry],
  });
  readonly selections: Counter<'outcome'> = new Counter({
    name: 'live_origin_selections_total',
    help: 'Delivery selection outcomes (clean, pinned, defective, none)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
    collect: () => this.deferredSelections.flushInto(this.selections),
  });
  /** Quality scores (contract v3), observed per accepted PUT of a numbered object. */
  readonly segmentQuality = new Histogram({
    name: 'live_origin_segment_quality',
    help: 'Quality scores (0-100, Live-Quality; 100 when a PUT names none) of accepted segments and parts, by pipeline',
    labelNames: ['pipeline'] as const,
    buckets: QUALITY_BUCKETS,
    registers: [this.registry],
  });
  readonly firstSelections = new Counter({
    name: 'live_origin_first_selections_total',
    help: 'First selections of segments and parts (when a path is pinned), by outcome: clean (a clean 100 at once), better_after_wait (a better copy came within betterWaitMs), wait_timed_out (none came), degraded (no other pipeline could bring a better one)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly deliveryMisses = new Counter({
    name: 'live_origin_delivery_misses_total',
    help: 'Delivery answers without an object, by status and reason',
    labelNames: ['status', 'reason'] as const,
    registers: [this.registry],
  });
  readonly held = new Gauge({
    name: 'live_origin_held_requests',
    help: 'Requests currently held open for a segment that is about to exist',
    registers: [this.registry],
  });
  readonly holdWaitSeconds = new Histogram({
    name: 'live_origin_hold_wait_seconds',
    help: 'How long held requests waited, by how the wait ended (published, timeout, shed, drain, aborted)',
    labelNames: ['outcome'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly holdTimeouts = new Counter({
    name: 'live_origin_hold_timeouts_total',
    help: 'Held requests answered 404 because nothing was published by the deadline',
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'live_origin_shed_total',
    help: 'Requests answered 503 to shed load, by reason (held_cap, event_rate)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly relayedStreams = new Counter({
    name: 'live_origin_relayed_streams_total',
    help: "PUTs read by other instances through this one's relay while they arrived, by how the read ended (complete, cut, stalled, left)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** Serving while ingesting: PUTs delivery could stream, by how they ended. */
  readonly ingestStreams = new Counter({
    name: 'live_origin_ingest_streams_total',
    help: 'PUTs served while their bytes arrived, by how they ended (complete: acknowledged; failed: broke off or refused, never visible)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly streamedAnswers = new Counter({
    name: 'live_origin_streamed_answers_total',
    help: 'Delivery answers streamed while their object was ingested, by how they ended (complete, cut: the PUT failed, stalled: the reader stopped reading, left: the client went away)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly purges = new Counter({
    name: 'live_origin_purges_total',
    help: 'PURGE requests to the CDN tier by outcome (ok, retried, failed, dropped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly purgeBacklog = new Gauge({
    name: 'live_origin_purge_backlog',
    help: 'PURGE requests queued or in flight (bounded; beyond the bound they are dropped and counted)',
    registers: [this.registry],
  });
  /** Counted on every hot read (aws mode): kept in a plain number until collected. */
  readonly hotCacheHits: Counter = new Counter({
    name: 'live_origin_hot_cache_hits_total',
    help: 'Object reads answered from memory without a store read',
    registers: [this.registry],
    collect: () => {
      this.hotCacheHits.inc(this.pendingCacheHits);
      this.pendingCacheHits = 0;
    },
  });
  private pendingCacheHits = 0;
  readonly hotCacheMisses = new Counter({
    name: 'live_origin_hot_cache_misses_total',
    help: 'Object reads that had to go to the segment store',
    registers: [this.registry],
  });
  readonly storeFaults = new Counter({
    name: 'live_origin_store_faults_total',
    help: 'Store operations that failed or were too slow, by store, operation and reason',
    labelNames: ['store', 'operation', 'reason'] as const,
    registers: [this.registry],
  });
  /** Observed on every store operation: a local histogram, like `requestSeconds`. */
  readonly storeSeconds = new LocalHistogram(
    'live_origin_store_operation_seconds',
    'Store operation latency by store and operation',
    ['store', 'operation'],
    LATENCY_BUCKETS,
    this.registry,
  );
  readonly evictions = new Counter({
    name: 'live_origin_evictions_total',
    help: 'Objects dropped to stay within memory bounds, by store',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });
  readonly evictedBytes = new Counter({
    name: 'live_origin_evicted_bytes_total',
    help: 'Bytes dropped to stay within memory bounds, by store',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });
  readonly peerCopyLag = new Histogram({
    name: 'live_origin_peer_copy_lag_seconds',
    help: 'Time from ingest ack to the copy landing in a peer region bucket',
    labelNames: ['region'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly peerCopyFailures = new Counter({
    name: 'live_origin_peer_copy_failures_total',
    help: 'Peer region copies given up, by region and reason',
    labelNames: ['region', 'reason'] as const,
    registers: [this.registry],
  });
  readonly peerCopyBacklog = new Gauge({
    name: 'live_origin_peer_copy_backlog',
    help: 'Copies waiting for or in flight to a peer region bucket, by region',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly unserved = new Counter({
    name: 'live_origin_unserved_total',
    help: 'Requests answered 5xx that the origin did not mean (store failures, internal errors), by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly remoteRelease = new Histogram({
    name: 'live_origin_remote_release_seconds',
    help: 'Time from a publish on another instance to the release of requests held here',
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly pipelineHealthy = new Gauge({
    name: 'live_origin_pipeline_healthy',
    help: 'Whether a pipeline publishes on time (1) or not (0), by event and pipeline',
    labelNames: ['event', 'pipeline'] as const,
    registers: [this.registry],
  });
  readonly pipelineLateness = new Gauge({
    name: 'live_origin_pipeline_lateness_seconds',
    help: 'How overdue a pipeline next segment is, by event and pipeline',
    labelNames: ['event', 'pipeline'] as const,
    registers: [this.registry],
  });

  private serverErrors = 0;
  private requestCount = 0;
  private ingestCount = 0;
  private defectCount = 0;
  private holdTimeoutCount = 0;
  private storeFaultCount = 0;
  private unhealthy = 0;
  private peerLagMax = 0;
  private servedCount = 0;
  private unservedCount = 0;
  private peerFailureCount = 0;
  private readonly peerBacklogs = new Map<string, number>();
  private peerBacklogMax = 0;

  /** Counts one finished HTTP request. */
  request(route: string, method: string, status: number, seconds: number): void {
    this.deferredRequests.add(`${route} ${method} ${status}`, () => ({ route, method, status }));
    this.requestSeconds.observe({ route }, seconds);
    this.requestCount++;
    if (!OPS_ROUTES.has(route)) this.servedCount++;
    if (status >= 500) this.serverErrors++;
  }

  /** An error answer with its code: counted as unserved when the origin did not mean it. */
  errorAnswered(code: string): void {
    if (!UNSERVED_ERROR_CODES.has(code)) return;
    this.unserved.inc({ code });
    this.unservedCount++;
  }

  /**
   * `request` for one hot route: the count is kept in a plain number until collected, the
   * latency histogram's child is bound once.
   */
  requestRecorder(route: string): (method: string, status: number, seconds: number) => void {
    const latency = this.requestSeconds.labels({ route });
    // Keyed by method, then status: no key string is built per request.
    const byMethod = new Map<string, Map<number, { count: number }>>();
    return (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) {
        byStatus = new Map();
        byMethod.set(method, byStatus);
      }
      let entry = byStatus.get(status);
      if (!entry) {
        entry = this.deferredRequests.entry(`${route} ${method} ${status}`, { route, method, status });
        byStatus.set(status, entry);
      }
      entry.count++;
      latency.observe(seconds);
      this.requestCount++;
      this.servedCount++;
      if (status >= 500) this.serverErrors++;
    };
  }

  /** `selections.inc({ outcome })`, counted in a plain number until collected (the delivery hot path counts every GET). */
  selectionCounted(outcome: string): void {
    this.deferredSelections.add(outcome, () => ({ outcome }));
  }

  ingest(pipeline: string, result: 'created' | 'replaced' | 'identical', bytes: number, defects: readonly string[]): void {
    this.deferredIngests.add(`${pipeline} ${result}`, () => ({ pipeline, result }));
    this.deferredIngestBytes.add(pipeline, () => ({ pipeline }), bytes);
    this.ingestCount++;
    this.defect(pipeline, defects);
  }

  defect(pipeline: string, kinds: readonly string[]): void {
    for (const kind of kinds) this.defects.inc({ pipeline, kind });
    this.defectCount += kinds.length;
  }

  /** A delivery answered without the object: its status and the service's reason. */
  deliveryMiss(status: number, reason: string): void {
    this.deliveryMisses.inc({ status, reason });
  }

  shedRequest(reason: 'held_cap' | 'event_rate'): void {
    this.shed.inc({ reason });
  }

  conflictingPut(pipeline: string): void {
    this.conflicts.inc({ pipeline });
  }

  /** One accepted segment or part's quality score. */
  quality(pipeline: string, score: number): void {
    this.segmentQuality.observe({ pipeline }, score);
  }

  firstSelection(outcome: FirstSelection): void {
    this.firstSelections.inc({ outcome });
  }

  streamEnded(outcome: 'complete' | 'failed'): void {
    this.ingestStreams.inc({ outcome });
  }

  holdTimeout(): void {
    this.holdTimeouts.inc();
    this.holdTimeoutCount++;
  }

  /** Sets the per-pipeline health gauges for one event and remembers the unhealthy total. */
  setPipelineHealth(entries: readonly PipelineHealthEntry[]): void {
    this.pipelineHealthy.reset();
    this.pipelineLateness.reset();
    for (const e of entries) {
      this.pipelineHealthy.set({ event: e.event, pipeline: e.pipeline }, e.healthy ? 1 : 0);
      this.pipelineLateness.set({ event: e.event, pipeline: e.pipeline }, e.latenessMs / 1000);
    }
    this.unhealthy = entries.filter((e) => !e.healthy).length;
  }

  snapshot(): AlarmSnapshot {
    const snap = {
      requests: this.requestCount,
      serverErrors: this.serverErrors,
      ingests: this.ingestCount,
      defects: this.defectCount,
      holdTimeouts: this.holdTimeoutCount,
      storeFaults: this.storeFaultCount,
      served: this.servedCount,
      unserved: this.unservedCount,
      peerCopyFailures: this.peerFailureCount,
      unhealthyPipelines: this.unhealthy,
      peerCopyLagMsMax: this.peerLagMax,
      peerCopyBacklogMax: this.peerBacklogMax,
    };
    this.peerLagMax = 0;
    this.peerBacklogMax = this.totalPeerBacklog();
    return snap;
  }

  private totalPeerBacklog(): number {
    let total = 0;
    for (const pending of this.peerBacklogs.values()) total += pending;
    return total;
  }

  /** The observer storage adapters report through. */
  storeObserver(): StoreObserver {
    return {
      fault: (store, operation, reason) => {
        this.storeFaults.inc({ store, operation, reason });
        this.storeFaultCount++;
      },
      latency: (store, operation, seconds) => this.storeSeconds.observe({ store, operation }, seconds),
      cacheHit: () => {
        this.pendingCacheHits++;
      },
      cacheMiss: () => this.hotCacheMisses.inc(),
      evicted: (store, bytes) => {
        this.evictions.inc({ store });
        this.evictedBytes.inc({ store }, bytes);
      },
      peerCopied: (region, lagMs) => {
        this.peerCopyLag.observe({ region }, lagMs / 1000);
        this.peerLagMax = Math.max(this.peerLagMax, lagMs);
      },
      peerCopyFailed: (region, reason) => {
        this.peerCopyFailures.inc({ region, reason });
        this.peerFailureCount++;
      },
      peerCopyBacklog: (region, pending) => {
        this.peerCopyBacklog.set({ region }, pending);
        this.peerBacklogs.set(region, pending);
        this.peerBacklogMax = Math.max(this.peerBacklogMax, this.totalPeerBacklog());
      },
      remoteRelease: (lagMs) => this.remoteRelease.observe(lagMs / 1000),
    };
  }
}
