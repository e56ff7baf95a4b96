/**
 * Cumulative counters since process start that regional alarms are built on. The CloudWatch
 * publisher diffs successive snapshots; gauges are read as they are.
 */
export interface AlarmSnapshot {
  readonly requests: number;
  readonly serverErrors: number;
  readonly ingests: number;
  readonly defects: number;
  readonly holdTimeouts: number;
  readonly storeFaults: number;
  /** Gauge: pipelines currently judged unhealthy, over all events. */
  readonly unhealthyPipelines: number;
  /** Gauge: largest peer copy lag seen since the last snapshot, in ms (0 if none). */
  readonly peerCopyLagMsMax: number;
}

export interface AlarmSignals {
  snapshot(): AlarmSnapshot;
}
