import pino from 'pino';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import type { FirstSelection } from '../../runtime/domain/better-wait.js';
import type { EventConfig } from '../../runtime/domain/model.js';
import type { ExplicitNumbering } from '../../runtime/domain/object-path.js';
import { parseObjectPath } from '../../runtime/domain/object-path.js';
import type { Purger } from '../../runtime/ports/purger.js';
import type { PipelineHealthEntry, ServiceMetrics } from '../../runtime/ports/service-metrics.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import { ActivityLog } from '../../runtime/service/activity-log.js';
import type { ServiceContext } from '../../runtime/service/context.js';
import { ControlService } from '../../runtime/service/control-service.js';
import { DeliveryService } from '../../runtime/service/delivery-service.js';
import { HoldRegistry } from '../../runtime/service/hold-registry.js';
import { IngestService } from '../../runtime/service/ingest-service.js';
import type { IngestStream } from '../../runtime/service/ingest-stream.js';
import { StreamRegistry } from '../../runtime/service/ingest-stream.js';
import { RemoteStreams } from '../../runtime/service/remote-streams.js';
import { etagOf } from '../contract/store-contract.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * The three use cases on the memory stores and fake time, wired as `buildApp` wires them, with
 * no server and no socket: a test calls the services, moves the clock, and reads what they
 * purged and counted.
 */

/** Every purge the services asked for, in order. */
export class RecordingPurger implements Purger {
  readonly purges: { event: string; paths: string[] }[] = [];

  purge(event: string, paths: readonly string[]): void {
    this.purges.push({ event, paths: [...paths] });
  }

  async flush(): Promise<void> {}

  /** The paths purged for one event, in order. */
  paths(event: string): string[] {
    return this.purges.filter((purge) => purge.event === event).flatMap((purge) => purge.paths);
  }
}

/** What the services counted, as plain lists. */
export class RecordingMetrics implements ServiceMetrics {
  readonly selections: string[] = [];
  readonly shed: string[] = [];
  holdTimeouts = 0;
  readonly ingests: { pipeline: string; result: string; bytes: number; defects: readonly string[] }[] = [];
  readonly conflicts: string[] = [];
  readonly defects: { pipeline: string; kinds: readonly string[] }[] = [];
  readonly streams: string[] = [];
  readonly qualities: { pipeline: string; score: number }[] = [];
  readonly firstSelections: FirstSelection[] = [];
  health: readonly PipelineHealthEntry[] = [];

  selectionCounted(outcome: string): void {
    this.selections.push(outcome);
  }
  shedRequest(reason: 'held_cap' | 'event_rate'): void {
    this.shed.push(reason);
  }
  holdTimeout(): void {
    this.holdTimeouts++;
  }
  ingest(pipeline: string, result: 'created' | 'replaced' | 'identical', bytes: number, defects: readonly string[]): void {
    this.ingests.push({ pipeline, result, bytes, defects });
  }
  conflictingPut(pipeline: string): void {
    this.conflicts.push(pipeline);
  }
  defect(pipeline: string, kinds: readonly string[]): void {
    this.defects.push({ pipeline, kinds });
  }
  streamEnded(outcome: 'complete' | 'failed'): void {
    this.streams.push(outcome);
  }
  quality(pipeline: string, score: number): void {
    this.qualities.push({ pipeline, score });
  }
  firstSelection(outcome: FirstSelection): void {
    this.firstSelections.push(outcome);
  }
  setPipelineHealth(entries: readonly PipelineHealthEntry[]): void {
    this.health = entries;
  }
}

export interface ServicesOptions {
  /** @default 100 */
  readonly maxHeld?: number;
  /** Requests per second per event before shedding. @default 0 (no budget) */
  readonly eventRps?: number;
}

export type Services = ReturnType<typeof services>;

export function services(options: ServicesOptions = {}) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ memoryBytes: 16 * 1024 * 1024, observer: NO_OBSERVER });
  const purger = new RecordingPurger();
  const metrics = new RecordingMetrics();
  const activity = new ActivityLog(() => clock.now());
  const holds = new HoldRegistry(stores.feed, clock, { maxHeld: options.maxHeld ?? 100 });
  const streams = new StreamRegistry((event, path) => holds.release({ event, path }), clock);
  const remoteStreams = new RemoteStreams(undefined, clock);
  const ctx: ServiceContext = { stores, purger, metrics, log: pino({ level: 'silent' }), clock, activity, streams, remoteStreams };
  const ingest = new IngestService(ctx);
  const delivery = new DeliveryService(ctx, holds, options.eventRps ?? 0);
  const control = new ControlService(ctx);

  /** Publishes `body` as one pipeline's candidate, as a PUT does once its body has arrived (completing its `stream`, if given). */
  const publish = (
    event: string,
    pipeline: string,
    path: string,
    body: string,
    more: { defects?: string[]; numbering?: ExplicitNumbering; stream?: IngestStream } = {},
  ) => {
    const bytes = Buffer.from(body);
    const input = {
      event,
      pipeline,
      object: parseObjectPath(path, more.numbering),
      body: bytes,
      etag: etagOf(bytes),
      contentType: 'video/mp4',
      defects: more.defects ?? [],
      notifications: {},
    };
    return ingest.put(input, more.stream);
  };

  /** Asks for an object as a GET does (no client leaving, no LL-HLS directives unless given). */
  const get = (event: string, path: string, directives?: Parameters<DeliveryService['deliver']>[3]) =>
    delivery.deliver(event, parseObjectPath(path), undefined, directives);

  /**
   * Configures `event` with a template whose segment `live` is due one D from now: it is in its
   * hold window now, with its deadline (due + one D of grace) two D from now, and segment
   * `live + k` enters its window k segments from now.
   */
  const liveEvent = (event: string, live: number, durationMs: number, config: EventConfig = {}) =>
    control.putConfig(event, {
      segmentDurationMs: durationMs,
      availabilityStartTime: clock.now() + durationMs - live * durationMs,
      startNumber: 1,
      ...config,
    });

  return { clock, stores, purger, metrics, activity, holds, streams, ingest, delivery, control, publish, get, liveEvent };
}

/** Whether a promise has settled yet, without waiting for it. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}
