import type { MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { METRIC_NAMES, METRIC_NAMESPACE, METRIC_REGION_DIMENSION } from '../aws-contract.js';
import type { AlarmSignals, AlarmSnapshot } from '../ports/alarm-signals.js';
import type { Cancel, Clock } from '../ports/clock.js';
import { CALL_BUDGET_MS, MAX_ATTEMPTS } from './aws-retry.js';
import { abortAfter } from './clock-waits.js';
import { systemClock } from './system-clock.js';

/** CloudWatch alarms evaluate one-minute periods. */
export const CLOUDWATCH_PERIOD_MS = 60_000;

/** Cumulative counters, sent as the increase since the previous successful send. */
const COUNTERS = ['requests', 'serverErrors', 'ingests', 'defects', 'holdTimeouts', 'storeFaults', 'peerCopyFailures'] as const;
/** Counters that feed the error ratio: sent as samples, not as a metric of their own. */
const RATIO_COUNTERS = ['served', 'unserved'] as const;
type SentCounter = (typeof COUNTERS)[number] | (typeof RATIO_COUNTERS)[number];

export interface CloudWatchPublisherOptions {
  readonly client: CloudWatchClient;
  readonly signals: AlarmSignals;
  /** Value of the Region dimension on every datum. */
  readonly region: string;
  /** @default 60 000 */
  readonly intervalMs?: number;
  /** Told of every failed send (the data is kept and sent with the next one). */
  readonly onFailure?: (error: unknown) => void;
  /** Times the periods and each send, and dates the data. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Publishes the alarm signals to CloudWatch once a period in one PutMetricData call. A failed
 * send never throws: it is counted and reported, and its increases ride on the next send.
 */
export class CloudWatchPublisher {
  /** Stops the period timer while it runs. */
  private stopTimer: Cancel | undefined;
  private readonly clock: Clock;
  private sending: Promise<void> | undefined;
  /** Counters as of the last successful send (zero at start: the counters start with the process). */
  private sent: Record<SentCounter, number> = {
    requests: 0,
    serverErrors: 0,
    ingests: 0,
    defects: 0,
    holdTimeouts: 0,
    storeFaults: 0,
    peerCopyFailures: 0,
    served: 0,
    unserved: 0,
  };
  /** Largest copy lag read since the last successful send (the snapshot resets it on each read). */
  private lagMax = 0;
  /** Largest peer backlog read since the last successful send. */
  private backlogMax = 0;
  private failureCount = 0;
  private sentCount = 0;

  constructor(private readonly options: CloudWatchPublisherOptions) {
    this.clock = options.clock ?? systemClock;
  }

  get failures(): number {
    return this.failureCount;
  }

  get sends(): number {
    return this.sentCount;
  }

  start(): void {
    if (this.stopTimer) return;
    this.stopTimer = this.clock.every(this.options.intervalMs ?? CLOUDWATCH_PERIOD_MS, () => void this.flush());
  }

  /** Sends what has changed since the last successful send. */
  flush(): Promise<void> {
    this.sending ??= this.send().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Stops the timer, sends the last period, and releases the client (the publisher owns it). */
  async close(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.sending;
    await this.flush();
    this.options.client.destroy();
  }

  private async send(): Promise<void> {
    const snapshot = this.options.signals.snapshot();
    this.lagMax = Math.max(this.lagMax, snapshot.peerCopyLagMsMax);
    this.backlogMax = Math.max(this.backlogMax, snapshot.peerCopyBacklogMax);
    const data = this.metricData(snapshot, new Date(this.clock.now()));
    const limit = abortAfter(this.clock, CALL_BUDGET_MS);
    try {
      await this.options.client.send(new PutMetricDataCommand({ Namespace: METRIC_NAMESPACE, MetricData: data }), { abortSignal: limit.signal });
      for (const name of [...COUNTERS, ...RATIO_COUNTERS]) this.sent[name] = snapshot[name];
      this.lagMax = 0;
      this.backlogMax = 0;
      this.sentCount++;
    } catch (error) {
      this.failureCount++;
      this.options.onFailure?.(error);
    } finally {
      limit.cancel();
    }
  }

  private metricData(snapshot: AlarmSnapshot, timestamp: Date): MetricDatum[] {
    const dimensions = [{ Name: METRIC_REGION_DIMENSION, Value: this.options.region }];
    const datum = (name: string, value: number, unit: StandardUnit): MetricDatum => ({
      MetricName: name,
      Dimensions: dimensions,
      Timestamp: timestamp,
      Value: value,
      Unit: unit,
    });
    return [
      ...COUNTERS.map((name) => datum(METRIC_NAMES[name], Math.max(0, snapshot[name] - this.sent[name]), 'Count')),
      datum(METRIC_NAMES.unhealthyPipelines, snapshot.unhealthyPipelines, 'Count'),
      datum(METRIC_NAMES.peerCopyLagMs, this.lagMax, 'Milliseconds'),
      datum(METRIC_NAMES.peerCopyBacklog, this.backlogMax, 'Count'),
      ...this.unservedSamples(snapshot, dimensions, timestamp),
    ];
  }

  /**
   * The period's requests as samples of `UnservedPercent`: 100 for each one not served, 0 for
   * the rest, as one value list with counts (so every process's requests weigh the same in the
   * region's Average). No requests, no datum: an idle period is not an error ratio of zero, and
   * the alarm treats the gap as not breaching.
   */
  private unservedSamples(snapshot: AlarmSnapshot, dimensions: MetricDatum['Dimensions'], timestamp: Date): MetricDatum[] {
    const served = Math.max(0, snapshot.served - this.sent.served);
    const unserved = Math.min(served, Math.max(0, snapshot.unserved - this.sent.unserved));
    if (served === 0) return [];
    const samples = [
      [0, served - unserved],
      [100, unserved],
    ].filter(([, count]) => count! > 0);
    return [
      {
        MetricName: METRIC_NAMES.unservedPercent,
        Dimensions: dimensions,
        Timestamp: timestamp,
        Values: samples.map(([value]) => value!),
        Counts: samples.map(([, count]) => count!),
        Unit: 'Percent',
      },
    ];
  }
}

/** A publisher on a client from the SDK's own configuration (AWS_REGION, credentials, endpoint). */
export function createCloudWatchPublisher(options: Omit<CloudWatchPublisherOptions, 'client'>): CloudWatchPublisher {
  const client = new CloudWatchClient({ region: options.region, maxAttempts: MAX_ATTEMPTS });
  return new CloudWatchPublisher({ ...options, client });
}
