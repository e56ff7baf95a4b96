import type { MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { METRIC_NAMES, METRIC_NAMESPACE, METRIC_REGION_DIMENSION } from '../aws-contract.js';
import type { AlarmSignals, AlarmSnapshot } from '../ports/alarm-signals.js';
import { CALL_BUDGET_MS, MAX_ATTEMPTS } from './aws-retry.js';

/** CloudWatch alarms evaluate one-minute periods. */
export const CLOUDWATCH_PERIOD_MS = 60_000;

/** Cumulative counters, sent as the increase since the previous successful send. */
const COUNTERS = ['requests', 'serverErrors', 'ingests', 'defects', 'holdTimeouts', 'storeFaults'] as const;

export interface CloudWatchPublisherOptions {
  readonly client: CloudWatchClient;
  readonly signals: AlarmSignals;
  /** Value of the Region dimension on every datum. */
  readonly region: string;
  /** @default 60 000 */
  readonly intervalMs?: number;
  /** Told of every failed send (the data is kept and sent with the next one). */
  readonly onFailure?: (error: unknown) => void;
}

/**
 * Publishes the alarm signals to CloudWatch once a period in one PutMetricData call. A failed
 * send never throws: it is counted and reported, and its increases ride on the next send.
 */
export class CloudWatchPublisher {
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  /** Counters as of the last successful send (zero at start: the counters start with the process). */
  private sent: Record<(typeof COUNTERS)[number], number> = {
    requests: 0,
    serverErrors: 0,
    ingests: 0,
    defects: 0,
    holdTimeouts: 0,
    storeFaults: 0,
  };
  /** Largest copy lag read since the last successful send (the snapshot resets it on each read). */
  private lagMax = 0;
  private failureCount = 0;
  private sentCount = 0;

  constructor(private readonly options: CloudWatchPublisherOptions) {}

  get failures(): number {
    return this.failureCount;
  }

  get sends(): number {
    return this.sentCount;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs ?? CLOUDWATCH_PERIOD_MS);
    this.timer.unref();
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
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sending;
    await this.flush();
    this.options.client.destroy();
  }

  private async send(): Promise<void> {
    const snapshot = this.options.signals.snapshot();
    this.lagMax = Math.max(this.lagMax, snapshot.peerCopyLagMsMax);
    const data = this.metricData(snapshot, new Date());
    try {
      await this.options.client.send(new PutMetricDataCommand({ Namespace: METRIC_NAMESPACE, MetricData: data }), {
        abortSignal: AbortSignal.timeout(CALL_BUDGET_MS),
      });
      for (const name of COUNTERS) this.sent[name] = snapshot[name];
      this.lagMax = 0;
      this.sentCount++;
    } catch (error) {
      this.failureCount++;
      this.options.onFailure?.(error);
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
    ];
  }
}

/** A publisher on a client from the SDK's own configuration (AWS_REGION, credentials, endpoint). */
export function createCloudWatchPublisher(options: Omit<CloudWatchPublisherOptions, 'client'>): CloudWatchPublisher {
  const client = new CloudWatchClient({ region: options.region, maxAttempts: MAX_ATTEMPTS });
  return new CloudWatchPublisher({ ...options, client });
}
