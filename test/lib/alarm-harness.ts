/**
 * CloudWatch alarm evaluation and Route 53 health checking, modelled from AWS's documentation so
 * that metric series can be replayed through the alarm and health check definitions of a
 * synthesized template. Nothing here knows which alarms exist: it reads them from the template.
 *
 * CloudWatch (Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms": evaluating an
 * alarm; configuring how alarms treat missing data; avoiding premature transitions):
 * - an alarm is evaluated once per period over the most recent Evaluation Periods (N) datapoints,
 *   of which Datapoints to Alarm (M) must breach;
 * - it retrieves an evaluation range larger than N (5 for N = 3 in AWS's examples; N + 2 here);
 *   with N or more real datapoints in the range, the most recent N real ones are evaluated and
 *   missing data is ignored; with fewer, the missing ones are filled with the TreatMissingData
 *   result, as few times as possible (the most recent missing slots); `missing` with no data at
 *   all is INSUFFICIENT_DATA and `ignore` keeps the current state;
 * - premature transition: with `missing` (and not with `ignore`), an alarm goes to ALARM when the
 *   oldest breaching datapoint among the last N slots is at least M periods old, every more
 *   recent slot is breaching or missing, and (as AWS's tables show) no datapoint in the range
 *   is non-breaching. test/lib/alarm-harness.test.ts replays AWS's two tables row by row.
 * Route 53 (Developer Guide, "How Amazon Route 53 determines whether a health check is healthy";
 * API reference, HealthCheckConfig):
 * - an endpoint check's checkers each request every RequestInterval and change status after
 *   FailureThreshold results in a row; the endpoint is healthy while more than 18 % of checkers
 *   report it healthy;
 * - a CLOUDWATCH_METRIC check is healthy while its alarm is OK, unhealthy while in ALARM, and
 *   follows InsufficientDataHealthStatus (Healthy, Unhealthy, LastKnownStatus) otherwise;
 * - a CALCULATED check is healthy while at least HealthThreshold of its children are.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export interface AlarmDefinition {
  readonly name: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: string;
  readonly treatMissingData: TreatMissingData;
}

/** An `AWS::CloudWatch::Alarm`'s properties as the model reads them (single metric only). */
export function alarmDefinition(props: Record<string, unknown>): AlarmDefinition {
  if (props.Metrics !== undefined || props.ExtendedStatistic !== undefined)
    throw new Error(`${String(props.AlarmName)}: only single-metric alarms with a basic statistic are modelled`);
  return {
    name: String(props.AlarmName),
    namespace: String(props.Namespace),
    metricName: String(props.MetricName),
    statistic: String(props.Statistic),
    periodSeconds: Number(props.Period),
    evaluationPeriods: Number(props.EvaluationPeriods),
    datapointsToAlarm: Number(props.DatapointsToAlarm ?? props.EvaluationPeriods),
    threshold: Number(props.Threshold),
    comparison: String(props.ComparisonOperator),
    treatMissingData: (props.TreatMissingData as TreatMissingData | undefined) ?? 'missing',
  };
}

export function breaches(alarm: Pick<AlarmDefinition, 'comparison' | 'threshold'>, value: number): boolean {
  switch (alarm.comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.threshold;
    case 'GreaterThanThreshold':
      return value > alarm.threshold;
    case 'LessThanThreshold':
      return value < alarm.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= alarm.threshold;
    default:
      throw new Error(`comparison ${alarm.comparison} is not modelled`);
  }
}

/** The evaluation range for `evaluationPeriods` (AWS's examples: 5 for 3). */
export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + 2;
}

/**
 * One evaluation. `range`: the evaluation range's datapoints, oldest first, each breaching
 * (true), not breaching (false) or missing (undefined).
 */
export function evaluateRange(
  range: readonly (boolean | undefined)[],
  options: { readonly evaluationPeriods: number; readonly datapointsToAlarm: number; readonly treatMissingData: TreatMissingData },
  current: AlarmState,
): AlarmState {
  const { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData } = options;
  const real = range.filter((point): point is boolean => point !== undefined);
  const verdict = (points: readonly boolean[]): AlarmState => (points.filter(Boolean).length >= m ? 'ALARM' : 'OK');
  if (real.length >= n) return verdict(real.slice(-n));
  if (treatMissingData === 'breaching' || treatMissingData === 'notBreaching') {
    // Fill the most recent missing slots, only as many as needed to make N.
    const filled = [...range];
    let needed = n - real.length;
    for (let i = filled.length - 1; i >= 0 && needed > 0; i--) {
      if (filled[i] === undefined) {
        filled[i] = treatMissingData === 'breaching';
        needed--;
      }
    }
    return verdict(filled.filter((point): point is boolean => point !== undefined));
  }
  if (real.length === 0) return treatMissingData === 'missing' ? 'INSUFFICIENT_DATA' : current;
  const lastN = range.slice(-n);
  const oldestBreach = lastN.indexOf(true);
  // AWS's tables add what the prose leaves out: a non-breaching datapoint anywhere in the range
  // (`0 - X - -`, 2 of 3: OK) rules the premature ALARM out.
  const premature =
    oldestBreach >= 0 && lastN.length - oldestBreach >= m && lastN.slice(oldestBreach + 1).every((point) => point !== false) && !real.includes(false);
  if (premature) return treatMissingData === 'missing' ? 'ALARM' : current;
  return verdict(real);
}

/**
 * The alarm's state after each period of `series` (one statistic value per period, undefined
 * where no datum was published), evaluated at the end of each period, starting OK.
 */
export function replayAlarm(alarm: AlarmDefinition, series: readonly (number | undefined)[], initial: AlarmState = 'OK'): AlarmState[] {
  const points = series.map((value) => (value === undefined ? undefined : breaches(alarm, value)));
  const states: AlarmState[] = [];
  let state = initial;
  const width = evaluationRange(alarm.evaluationPeriods);
  for (let end = 1; end <= points.length; end++) {
    const range = points.slice(Math.max(0, end - width), end);
    // Periods before the series began count as missing.
    while (range.length < width) range.unshift(undefined);
    state = evaluateRange(range, alarm, state);
    states.push(state);
  }
  return states;
}

export interface EndpointCheck {
  readonly requestIntervalSeconds: number;
  readonly failureThreshold: number;
}

/** Route 53's share of checkers that must report an endpoint healthy. */
const HEALTHY_CHECKER_SHARE = 0.18;
/** Checkers modelled, their first requests spread evenly over one interval. */
const CHECKERS = 16;

/**
 * Whether Route 53 calls the endpoint healthy at each second of [0, untilSeconds), given whether
 * a request at time t succeeds. Every checker starts healthy.
 */
export function replayEndpoint(check: EndpointCheck, succeeds: (t: number) => boolean, untilSeconds: number): boolean[] {
  const checkers = Array.from({ length: CHECKERS }, (_, index) => ({
    phase: (index * check.requestIntervalSeconds) / CHECKERS,
    healthy: true,
    streak: 0,
    next: (index * check.requestIntervalSeconds) / CHECKERS,
  }));
  const healthy: boolean[] = [];
  for (let second = 0; second < untilSeconds; second++) {
    for (const checker of checkers) {
      while (checker.next < second + 1) {
        const ok = succeeds(checker.next);
        // A result that agrees with the status resets the count of results against it.
        if (ok === checker.healthy) checker.streak = 0;
        else if (++checker.streak >= check.failureThreshold) {
          checker.healthy = ok;
          checker.streak = 0;
        }
        checker.next += check.requestIntervalSeconds;
      }
    }
    healthy.push(checkers.filter((checker) => checker.healthy).length / CHECKERS > HEALTHY_CHECKER_SHARE);
  }
  return healthy;
}

export type InsufficientDataHealthStatus = 'Healthy' | 'Unhealthy' | 'LastKnownStatus';

/** A CLOUDWATCH_METRIC health check's status for each alarm state, in order. */
export function metricCheckHealth(states: readonly AlarmState[], insufficient: InsufficientDataHealthStatus): boolean[] {
  let last = true;
  return states.map((state) => {
    if (state === 'OK') last = true;
    else if (state === 'ALARM') last = false;
    else if (insufficient !== 'LastKnownStatus') last = insufficient === 'Healthy';
    return last;
  });
}

/** A CALCULATED check: healthy while at least `threshold` children are. */
export function calculatedHealth(children: readonly (readonly boolean[])[], threshold: number): boolean[] {
  const length = Math.min(...children.map((child) => child.length));
  return Array.from({ length }, (_, index) => children.filter((child) => child[index]).length >= threshold);
}
