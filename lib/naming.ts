/**
 * Names that more than one stack (or a person, or a script) must agree on without a cross-stack
 * reference: a region's segment bucket (its peers write to it), its alarms (Route 53 and the
 * runbooks name them), its health checks (the drill finds them), the tables.
 * Deterministic names remove the need for reference cycles between regions.
 */
import { TABLE_SUFFIXES } from '../runtime/aws-contract.js';
import { APP_NAME } from '../runtime/defaults.js';

export { APP_NAME, DEFAULT_TABLE_PREFIX } from '../runtime/defaults.js';

/** The Secrets Manager secret (same name in every region) when context `secretName` is not set. */
export const DEFAULT_SECRET_NAME = `${APP_NAME}/runtime`;

/**
 * The segment bucket of `region`. Bucket names are global, so the account is part of the name;
 * pass `Aws.ACCOUNT_ID` (a token) when the stacks are account-agnostic: all regions deploy into
 * the same account, so the token resolves to the same value in every stack.
 */
export function segmentBucketName(account: string, region: string): string {
  return `${APP_NAME}-segments-${account}-${region}`;
}

/**
 * Every metric alarm of a region, by key, with the suffix of its fixed name. Names are fixed so
 * that Route 53 health checks, runbooks and the Prometheus rules' mapping (docs/ops/) can name
 * them; they are deleted with their origin stack, so a redeploy after a delete cannot collide.
 */
export const ALARM_NAME_SUFFIXES = {
  http5xxRate: 'http-5xx-rate',
  p99ResponseTime: 'p99-response-time',
  deliveryUnhealthyHosts: 'delivery-unhealthy-hosts',
  ingestUnhealthyHosts: 'ingest-unhealthy-hosts',
  noHealthyHosts: 'no-healthy-hosts',
  target5xxCount: 'target-5xx-count',
  elb5xxCount: 'elb-5xx-count',
  unhealthyPipelines: 'unhealthy-pipelines',
  defects: 'defects',
  holdTimeouts: 'hold-timeouts',
  storeFaults: 'store-faults',
  unservedRatio: 'unserved-ratio',
  peerCopyFailures: 'peer-copy-failures',
  peerCopyBacklog: 'peer-copy-backlog',
} as const;

export type OriginAlarmKey = keyof typeof ALARM_NAME_SUFFIXES;

/**
 * The alarms Route 53 follows (through `CLOUDWATCH_METRIC` health checks): each watches one
 * standard-resolution metric with a basic statistic, the only kind Route 53 evaluates, and each
 * means "this region cannot serve": nothing healthy behind the load balancer, the load balancer
 * failing on its own, or the runtime failing requests it did not mean to fail. Target 5xx counts
 * (they include deliberate 503s: shedding, blocking-reload timeouts) and store faults (they
 * include slow calls: a latency tail) page people but never move DNS.
 */
export const FAILOVER_ALARM_KEYS = ['noHealthyHosts', 'elb5xxCount', 'unservedRatio'] as const satisfies readonly OriginAlarmKey[];

export type FailoverAlarmKey = (typeof FAILOVER_ALARM_KEYS)[number];

/** The fixed name of one metric alarm of `region`, e.g. `live-origin-us-east-1-no-healthy-hosts`. */
export function alarmName(region: string, key: OriginAlarmKey): string {
  return `${APP_NAME}-${region}-${ALARM_NAME_SUFFIXES[key]}`;
}

/** Every metric alarm name of `region`, by key. */
export function alarmNames(region: string): Record<OriginAlarmKey, string> {
  const keys = Object.keys(ALARM_NAME_SUFFIXES) as OriginAlarmKey[];
  return Object.fromEntries(keys.map((key) => [key, alarmName(region, key)])) as Record<OriginAlarmKey, string>;
}

/** The composite alarm that says whether `region` can serve: for people and paging, never for DNS. */
export function regionHealthAlarmName(region: string): string {
  return `${APP_NAME}-${region}-region-health`;
}

/**
 * The `Name` tag of a region's Route 53 health checks (what the console shows, and how
 * `npm run drill` finds them): `endpoint` is the HTTP(S) check of the load balancer's
 * readiness, `region` the CALCULATED check the failover record follows, the others follow the
 * alarm of the same key.
 */
export function healthCheckName(region: string, key: 'endpoint' | 'region' | FailoverAlarmKey): string {
  const suffix = key === 'endpoint' || key === 'region' ? key : ALARM_NAME_SUFFIXES[key];
  return `${APP_NAME}-${region}-${suffix}`;
}

/** The failover record's set identifier of `region` (also how the drill tells regions apart). */
export function failoverSetIdentifier(region: string, role: 'PRIMARY' | 'SECONDARY'): string {
  return `${region}-${role.toLowerCase()}`;
}

/** The region a set identifier names, or undefined for one this app did not write. */
export function regionOfSetIdentifier(setIdentifier: string): string | undefined {
  return /^(.+)-(primary|secondary)$/.exec(setIdentifier)?.[1];
}

/** The CloudWatch dashboard of `region`. */
export function dashboardName(region: string): string {
  return `${APP_NAME}-${region}`;
}

/** Every metadata table's physical name, keyed like `TABLE_SUFFIXES`. */
export function tableNames(prefix: string): Record<keyof typeof TABLE_SUFFIXES, string> {
  const entries = Object.entries(TABLE_SUFFIXES).map(([key, suffix]) => [key, `${prefix}${suffix}`]);
  return Object.fromEntries(entries) as Record<keyof typeof TABLE_SUFFIXES, string>;
}

/**
 * Stack names: one data and one origin stack per region. Each origin stack holds its own
 * region's failover record and health checks, so no value crosses regions.
 */
export const STACK_NAMES = {
  data: (region: string) => `LiveOrigin-Data-${region}`,
  origin: (region: string) => `LiveOrigin-Origin-${region}`,
  /** One per app: CloudFront is global; the stack lives in the home region. */
  cdn: 'LiveOrigin-Cdn',
} as const;

/**
 * The tag the CDN stack puts on its distribution. The instances may invalidate only distributions
 * carrying it: the distribution's id is not known when their role is made.
 */
export const CDN_DISTRIBUTION_TAG = { key: `${APP_NAME}:cdn`, value: STACK_NAMES.cdn } as const;
