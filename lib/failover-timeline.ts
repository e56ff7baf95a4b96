/**
 * How long a regional failover takes, computed from the settings the constructs use. The
 * constructs take their defaults from here, docs/deploy.md carries `timelineMarkdown()` of the
 * defaults, and a test compares both with the synthesized templates, so none of the three can
 * drift from the others.
 */

/**
 * Route 53 gives an alias record the TTL of its target; for a load balancer that is a fixed
 * 60 s ("to use DNS failover with ELB ... use alias records with a fixed TTL of 60 seconds",
 * Route 53 FAQ). It cannot be lowered.
 */
export const ELB_ALIAS_TTL_SECONDS = 60;

/** The promise this module checks: resolvers get the secondary within this of the primary going dark. */
export const FAILOVER_TARGET_SECONDS = 90;

/**
 * Defaults of the failover path. Fast (10 s) requests and 3 failures detect a dark region in at
 * most 30 s, which with the 60 s alias TTL meets the 90 s target; the standard 30 s interval
 * would take 90 s to detect alone. Alarms watch one-minute periods (Route 53 only follows
 * standard-resolution alarms) for three minutes, long enough that one bad minute does not
 * move every viewer to the other region.
 */
export const FAILOVER_DEFAULTS = {
  endpointRequestIntervalSeconds: 10,
  endpointFailureThreshold: 3,
  alarmPeriodSeconds: 60,
  alarmEvaluationPeriods: 3,
} as const;

export interface FailoverTimelineInputs {
  /** Seconds between one Route 53 checker's requests to the load balancer's readiness (10 or 30). */
  readonly endpointRequestIntervalSeconds: number;
  /** Consecutive failed requests before a checker calls the endpoint unhealthy (1 to 10). */
  readonly endpointFailureThreshold: number;
  /** Period of the alarms that Route 53 follows, in seconds (60 or more: standard resolution). */
  readonly alarmPeriodSeconds: number;
  /** Breaching periods before those alarms fire. */
  readonly alarmEvaluationPeriods: number;
  /**
   * How long a resolver keeps the old answer.
   * @default ELB_ALIAS_TTL_SECONDS
   */
  readonly dnsTtlSeconds?: number;
  /**
   * How long a CDN that fetches from the failover name keeps its resolved address (one that
   * honours the TTL: the TTL itself). A CDN with one origin per region and per-request
   * fallback (Varnish's fallback director, a CloudFront origin group) does not wait for DNS.
   * @default the DNS TTL
   */
  readonly cdnReResolutionSeconds?: number;
}

/** One way a region fails, and when each party notices. Times are worst cases, in seconds from the failure. */
export interface FailoverPath {
  readonly failure: string;
  readonly detectedBy: string;
  /** Route 53 calls the region unhealthy and its name servers answer the secondary. */
  readonly route53Seconds: number;
  /** Every resolver that honours the TTL answers the secondary. */
  readonly resolverSeconds: number;
  /** A CDN fetching from the failover name connects to the secondary. */
  readonly cdnSeconds: number;
  /** What the numbers leave out. */
  readonly notCounted: string;
}

export interface FailoverTimeline {
  readonly inputs: Required<FailoverTimelineInputs>;
  /** Region dark: the load balancer is unreachable or every instance answers `/readyz` 503. */
  readonly dark: FailoverPath;
  /** Partial failure seen by an alarm (no healthy host, load balancer 5xx, requests not served). */
  readonly alarm: FailoverPath;
  /** `dark.resolverSeconds <= FAILOVER_TARGET_SECONDS`. */
  readonly meetsTarget: boolean;
}

/** Worst-case failover times for `inputs`; throws on settings Route 53 or CloudWatch would refuse. */
export function failoverTimeline(inputs: FailoverTimelineInputs): FailoverTimeline {
  const ttl = inputs.dnsTtlSeconds ?? ELB_ALIAS_TTL_SECONDS;
  const resolved: Required<FailoverTimelineInputs> = {
    ...inputs,
    dnsTtlSeconds: ttl,
    cdnReResolutionSeconds: inputs.cdnReResolutionSeconds ?? ttl,
  };
  validate(resolved);

  // A checker's next request comes at most one interval after the failure, and it needs
  // `threshold` failures in a row: the last one lands at most threshold x interval later.
  const endpointDetection = resolved.endpointRequestIntervalSeconds * resolved.endpointFailureThreshold;
  const alarmDetection = resolved.alarmPeriodSeconds * resolved.alarmEvaluationPeriods;
  const path = (failure: string, detectedBy: string, detection: number, notCounted: string): FailoverPath => ({
    failure,
    detectedBy,
    route53Seconds: detection,
    resolverSeconds: detection + resolved.dnsTtlSeconds,
    cdnSeconds: detection + resolved.cdnReResolutionSeconds,
    notCounted,
  });
  const dark = path(
    'Region dark (load balancer unreachable, or every instance answers /readyz 503)',
    `HTTP(S) check of /readyz: ${resolved.endpointFailureThreshold} failures x ${resolved.endpointRequestIntervalSeconds} s`,
    endpointDetection,
    'Route 53 spreading a status change to its name servers (seconds, not documented as a number)',
  );
  const alarm = path(
    'Partial failure (no healthy delivery host, load balancer 5xx, requests the runtime cannot serve)',
    `alarm: ${resolved.alarmEvaluationPeriods} x ${resolved.alarmPeriodSeconds} s periods`,
    alarmDetection,
    'metric delivery delay (about a minute for load balancer metrics) and Route 53 reading the alarm state',
  );
  return { inputs: resolved, dark, alarm, meetsTarget: dark.resolverSeconds <= FAILOVER_TARGET_SECONDS };
}

/** The timeline as the Markdown table docs/deploy.md carries (a test keeps them equal). */
export function timelineMarkdown(timeline: FailoverTimeline): string {
  const row = (p: FailoverPath): string =>
    `| ${p.failure} | ${p.detectedBy} | ${p.route53Seconds} | ${p.resolverSeconds} | ${p.cdnSeconds} | ${p.notCounted} |`;
  const i = timeline.inputs;
  return [
    '| Failure | Detected by | Route 53 answers the secondary (s) | Resolvers answer it (s, + TTL) | CDN on the failover name (s) | Not counted |',
    '|---|---|---|---|---|---|',
    row(timeline.dark),
    row(timeline.alarm),
    '',
    `Inputs: Route 53 request interval ${i.endpointRequestIntervalSeconds} s, failure threshold ${i.endpointFailureThreshold}, ` +
      `alarm period ${i.alarmPeriodSeconds} s x ${i.alarmEvaluationPeriods} evaluation periods, alias TTL ${i.dnsTtlSeconds} s ` +
      `(fixed by Route 53 for load balancer targets), CDN re-resolution ${i.cdnReResolutionSeconds} s. ` +
      `Target: resolvers answer the secondary within ${FAILOVER_TARGET_SECONDS} s of the primary going dark: ` +
      `${timeline.meetsTarget ? 'met' : 'NOT met'} (${timeline.dark.resolverSeconds} s).`,
  ].join('\n');
}

function validate(i: Required<FailoverTimelineInputs>): void {
  const problems: string[] = [];
  if (i.endpointRequestIntervalSeconds !== 10 && i.endpointRequestIntervalSeconds !== 30) {
    problems.push(`Route 53 request interval must be 10 or 30 s, got ${i.endpointRequestIntervalSeconds}`);
  }
  if (!Number.isInteger(i.endpointFailureThreshold) || i.endpointFailureThreshold < 1 || i.endpointFailureThreshold > 10) {
    problems.push(`failure threshold must be an integer from 1 to 10, got ${i.endpointFailureThreshold}`);
  }
  if (!Number.isInteger(i.alarmPeriodSeconds) || i.alarmPeriodSeconds < 60 || i.alarmPeriodSeconds % 60 !== 0) {
    problems.push(`alarm period must be a multiple of 60 s (Route 53 follows standard-resolution alarms only), got ${i.alarmPeriodSeconds}`);
  }
  if (!Number.isInteger(i.alarmEvaluationPeriods) || i.alarmEvaluationPeriods < 1) {
    problems.push(`alarm evaluation periods must be a positive integer, got ${i.alarmEvaluationPeriods}`);
  }
  for (const key of ['dnsTtlSeconds', 'cdnReResolutionSeconds'] as const) {
    if (!(i[key] >= 0)) problems.push(`${key} must be >= 0, got ${i[key]}`);
  }
  if (problems.length > 0) throw new Error(`failoverTimeline: ${problems.join('; ')}`);
}
