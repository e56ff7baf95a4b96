/** What an origin fleet is built from: its props, their defaults, and the checks made before anything is built. */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { isGravitonInstanceType, isRegionName } from '../aws-names.js';
import { withDefaults } from '../defaults.js';
import { DEFAULT_SECRET_NAME, DEFAULT_TABLE_PREFIX } from '../naming.js';

/** HTTPS for the origin's own name, with a certificate validated through Route 53. */
export interface OriginTls {
  /** The name clients use (the failover record's name). */
  readonly domainName: string;
  /** Zone that holds `domainName`, where the validation record is written. */
  readonly hostedZone: route53.IHostedZone;
}

/** A one-time change of the group's minimum, e.g. the start or the end of an event window. */
export interface ScheduledCapacity {
  /** When, as an ISO 8601 UTC time in the future (Auto Scaling refuses one in the past). */
  readonly at: string;
  /** The group's minimum from then on. */
  readonly minCapacity: number;
}

export interface OriginFleetProps {
  /** Network of the load balancer (public subnets) and the instances (private subnets with egress). */
  readonly vpc: ec2.IVpc;
  /** The baked origin AMI (arm64). */
  readonly machineImage: ec2.IMachineImage;
  /** This region's segment bucket: the instances read and write it. */
  readonly segmentBucket: s3.IBucket;
  /**
   * Segment buckets of the other regions, by region: the instances copy each acked segment
   * there, and read from them a key whose copy has not reached this region yet.
   * @default {} (no peers)
   */
  readonly peerBuckets?: Readonly<Record<string, string>>;
  /**
   * Prefix of the metadata tables (their replicas in this region are used).
   * @default DEFAULT_TABLE_PREFIX ('live-origin-')
   */
  readonly tablePrefix?: string;
  /**
   * Secrets Manager secret in this region with `LIVE_ORIGIN_TOKENS` (required) and optionally
   * `LIVE_ORIGIN_CDN_SECRET`, `LIVE_ORIGIN_CDN_SECRET_NEXT`, `LIVE_ORIGIN_PURGE_URLS` and
   * `LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID`, as JSON keys. Tokens and CDN secrets are fetched
   * again every minute, the rest at boot.
   * @default DEFAULT_SECRET_NAME ('live-origin/runtime')
   */
  readonly secretName?: string;
  /**
   * Graviton instance type.
   * @default 'c7g.large'
   */
  readonly instanceType?: string;
  /**
   * Fewest instances outside event windows.
   * @default 2
   */
  readonly minCapacity?: number;
  /**
   * Most instances.
   * @default 6
   */
  readonly maxCapacity?: number;
  /**
   * One-time changes of the minimum (event windows: up at the start, back at the end).
   * @default [] (none)
   */
  readonly scheduledCapacity?: readonly ScheduledCapacity[];
  /**
   * Average CPU the group scales to keep.
   * @default 50
   */
  readonly cpuTargetPercent?: number;
  /**
   * Load balancer capacity units reserved (`MinimumLoadBalancerCapacity`), so that a failover's
   * sudden load does not wait for the load balancer to scale. 0 reserves none; else 100 or more.
   * @default 0
   */
  readonly loadBalancerCapacityUnits?: number;
  /**
   * Addresses (CIDR) allowed to reach `/ingest/*` and `/admin/*`; others get 403 from the load
   * balancer. Empty: anyone with a token.
   * @default [] (no source restriction)
   */
  readonly ingestSources?: readonly string[];
  /**
   * Requests per source address per 5 minutes to `/ingest/*` and `/admin/*` before AWS WAF
   * answers 429 (a web ACL on the load balancer). 0: no web ACL.
   * @default 0
   */
  readonly ingestRateLimit?: number;
  /**
   * Share of instance memory given to the runtime's hot cache (`LIVE_ORIGIN_MEMORY_BYTES`).
   * @default 0.5
   */
  readonly hotCacheMemoryFraction?: number;
  /**
   * Root volume size in GiB.
   * @default 16
   */
  readonly rootVolumeGiB?: number;
  /**
   * Time the load balancer lets in-flight and held requests finish on a deregistering instance.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * How long a newly healthy target's share of requests ramps up (hot caches are empty at first).
   * @default Duration.seconds(60)
   */
  readonly slowStart?: Duration;
  /**
   * Refuse to delete the load balancer (a new one has a new name; CDNs and records point at it).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * HTTPS on 443 (HTTP redirects to it); without it the origin listens on plain HTTP 80.
   * @default - HTTP only, for trials without a domain
   */
  readonly tls?: OriginTls;
  /**
   * Bucket for the load balancer's access logs.
   * @default - no access logs
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * How long the runtime's log (shipped by the CloudWatch agent) is kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export type ResolvedFleetProps = Required<Omit<OriginFleetProps, 'tls' | 'accessLogsBucket'>> & Pick<OriginFleetProps, 'tls' | 'accessLogsBucket'>;

/** Defaults merged under the caller's props. */
export function originFleetDefaults(props: OriginFleetProps): ResolvedFleetProps {
  return withDefaults(
    {
      peerBuckets: {},
      tablePrefix: DEFAULT_TABLE_PREFIX,
      secretName: DEFAULT_SECRET_NAME,
      instanceType: 'c7g.large',
      minCapacity: 2,
      maxCapacity: 6,
      scheduledCapacity: [],
      cpuTargetPercent: 50,
      loadBalancerCapacityUnits: 0,
      ingestSources: [],
      ingestRateLimit: 0,
      hotCacheMemoryFraction: 0.5,
      rootVolumeGiB: 16,
      deregistrationDelay: Duration.seconds(30),
      slowStart: Duration.seconds(60),
      deletionProtection: true,
      logRetention: logs.RetentionDays.ONE_MONTH,
    },
    props,
  );
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+\/\d{1,3}$/;

/** An IPv4 or IPv6 CIDR block as AWS takes them. */
export function isCidr(value: string): boolean {
  const v4 = IPV4_CIDR.exec(value);
  if (v4) return v4.slice(1, 5).every((part) => Number(part) <= 255) && Number(v4[5]) <= 32;
  return IPV6_CIDR.test(value) && value.includes(':');
}

/** Throws with every problem found. */
export function validateFleetProps(props: ResolvedFleetProps): void {
  const problems: string[] = [];
  if (!isGravitonInstanceType(props.instanceType)) {
    problems.push(`instanceType "${props.instanceType}" must be Graviton (arm64), like the AMI`);
  }
  if (!Number.isInteger(props.minCapacity) || props.minCapacity < 1) problems.push(`minCapacity must be an integer >= 1, got ${props.minCapacity}`);
  if (!Number.isInteger(props.maxCapacity) || props.maxCapacity < props.minCapacity) {
    problems.push(`maxCapacity must be an integer >= minCapacity (${props.minCapacity}), got ${props.maxCapacity}`);
  }
  for (const change of props.scheduledCapacity) {
    if (Number.isNaN(Date.parse(change.at))) problems.push(`scheduledCapacity: "${change.at}" is not an ISO 8601 time`);
    if (!Number.isInteger(change.minCapacity) || change.minCapacity < 1 || change.minCapacity > props.maxCapacity) {
      problems.push(
        `scheduledCapacity at ${change.at}: minCapacity must be an integer from 1 to maxCapacity (${props.maxCapacity}), got ${change.minCapacity}`,
      );
    }
  }
  if (!(props.cpuTargetPercent > 0 && props.cpuTargetPercent <= 100)) problems.push(`cpuTargetPercent must be in (0, 100], got ${props.cpuTargetPercent}`);
  // An Application Load Balancer reserves 100 capacity units at the least.
  if (!Number.isInteger(props.loadBalancerCapacityUnits) || (props.loadBalancerCapacityUnits !== 0 && props.loadBalancerCapacityUnits < 100)) {
    problems.push(`loadBalancerCapacityUnits must be 0 (none) or an integer >= 100, got ${props.loadBalancerCapacityUnits}`);
  }
  for (const source of props.ingestSources) {
    if (!isCidr(source)) problems.push(`ingestSources: "${source}" is not a CIDR block (like 203.0.113.0/24)`);
  }
  // AWS WAF's floor for a rate-based rule.
  if (!Number.isInteger(props.ingestRateLimit) || (props.ingestRateLimit !== 0 && props.ingestRateLimit < 10)) {
    problems.push(`ingestRateLimit must be 0 (none) or an integer >= 10, got ${props.ingestRateLimit}`);
  }
  if (!(props.hotCacheMemoryFraction > 0 && props.hotCacheMemoryFraction < 1)) {
    problems.push(`hotCacheMemoryFraction must be in (0, 1), got ${props.hotCacheMemoryFraction}`);
  }
  if (!Number.isInteger(props.rootVolumeGiB) || props.rootVolumeGiB < 8) problems.push(`rootVolumeGiB must be an integer >= 8, got ${props.rootVolumeGiB}`);
  const delay = props.deregistrationDelay.toSeconds({ integral: false });
  if (delay < 0 || delay > 3600) problems.push(`deregistrationDelay must be between 0 and 3600 s, got ${delay}`);
  // The load balancer's own range for slow start.
  const slowStart = props.slowStart.toSeconds({ integral: false });
  if (slowStart !== 0 && (slowStart < 30 || slowStart > 900)) problems.push(`slowStart must be 0 or between 30 and 900 s, got ${slowStart}`);
  const stackRegion = Stack.of(props.vpc).region;
  for (const region of Object.keys(props.peerBuckets)) {
    if (!isRegionName(region)) problems.push(`peerBuckets: "${region}" is not a region name`);
    if (!Token.isUnresolved(stackRegion) && region === stackRegion) problems.push(`peerBuckets must not include this region (${region})`);
  }
  if (props.tls && !Token.isUnresolved(props.tls.domainName) && !/^[a-z0-9.-]+\.[a-z]{2,63}$/.test(props.tls.domainName)) {
    problems.push(`tls.domainName "${props.tls.domainName}" is not a DNS name`);
  }
  if (problems.length > 0) throw new Error(`OriginFleet: ${problems.join('; ')}`);
}
