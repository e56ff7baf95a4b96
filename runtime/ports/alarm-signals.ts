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
  /** Requests that count in the error ratio: every answer but the health and metrics routes'. */
  readonly served: number;
  /** Of those, answers 5xx the origin did not mean (store failures, internal errors). */
  readonly unserved: number;
  /** Peer copies given up or dropped. */
  readonly peerCopyFailures: number;
  /** Gauge: pipelines currently judged unhealthy, over all events. */
  readonly unhealthyPipelines: number;
  /** Gauge: largest peer copy lag seen since the last snapshot, in ms (0 if none). */
  readonly peerCopyLagMsMax: number;
  /** Gauge: most copies waiting for peers at once since the last snapshot. */
  readonly peerCopyBacklogMax: number;
}

export interface AlarmSignals {
  snapshot(): AlarmSnapshot;
}
