/**
 * Turns the validated configuration into stacks: a data and an origin stack per region. With a
 * domain, each origin stack also holds its region's failover record and health checks, so no
 * value crosses regions (see docs/deploy.md, "Cross-region values"). `bin/live-origin.ts` calls
 * this; so do the tests.
 */
import { type App, Aws, type Environment, Tags } from 'aws-cdk-lib';
import type { LiveOriginConfig } from './config.js';
import { CdnOriginAccess } from './constructs/cdn-origin-access.js';
import { APP_NAME, alarmNames, dashboardName, regionHealthAlarmName, STACK_NAMES, segmentBucketName } from './naming.js';
import { CdnStack } from './stacks/cdn-stack.js';
import { DataStack } from './stacks/data-stack.js';
import { OriginStack } from './stacks/origin-stack.js';

/** The CDN stack's name (one per app: CloudFront is global). */
export const STACK_NAMES_CDN = STACK_NAMES.cdn;

export interface LiveOriginStacks {
  /** By region. */
  readonly data: Readonly<Record<string, DataStack>>;
  /** By region; with `dns` configured each holds its region's failover record. */
  readonly origins: Readonly<Record<string, OriginStack>>;
  /** Present with `cdn=cloudfront`: the distribution, in the primary region. */
  readonly cdn?: CdnStack;
}

export interface LiveOriginAppOptions {
  /**
   * Server entry bundled into the AMI.
   * @default runtime/server.ts
   */
  readonly runtimeEntry?: string;
}

export function addLiveOriginStacks(app: App, config: LiveOriginConfig, options: LiveOriginAppOptions = {}): LiveOriginStacks {
  const env = (region: string): Environment => (config.account ? { account: config.account, region } : { region });
  // All regions deploy into one account, so the pseudo parameter names the same account everywhere.
  const account = config.account ?? Aws.ACCOUNT_ID;
  const bucketOf = (region: string): string => segmentBucketName(account, region);

  const data: Record<string, DataStack> = {};
  for (const region of config.regions) {
    const primary = region === config.primaryRegion;
    data[region] = new DataStack(app, STACK_NAMES.data(region), {
      env: env(region),
      description: `Live Origin state in ${region}: segment bucket${primary ? ', global metadata tables' : ''}`,
      segmentBucketName: bucketOf(region),
      windowSegments: config.windowSegments,
      segmentDurationMs: config.segmentDurationMs,
      tables: primary ? { tablePrefix: config.tablePrefix, replicaRegions: config.regions.filter((r) => r !== config.primaryRegion) } : undefined,
    });
  }

  const origins: Record<string, OriginStack> = {};
  for (const region of config.regions) {
    const peers = Object.fromEntries(config.regions.filter((r) => r !== region).map((r) => [r, bucketOf(r)]));
    const origin = new OriginStack(app, STACK_NAMES.origin(region), {
      env: env(region),
      description: `Live Origin fleet in ${region}: image, load balancer, Auto Scaling group, alarms${config.dns ? ', failover record' : ''}`,
      segmentBucketName: bucketOf(region),
      peerBuckets: peers,
      accessLogsBucket: data[region]!.segments.accessLogsBucket,
      tablePrefix: config.tablePrefix,
      secretName: config.secretName,
      instanceType: config.instanceType,
      minCapacity: config.minCapacity,
      maxCapacity: config.maxCapacity,
      healthAlarmName: regionHealthAlarmName(region),
      alarmNames: alarmNames(region),
      alarmEmails: config.alarms.topicArns[region] ? [] : config.alarms.emails,
      alarmTopicArn: config.alarms.topicArns[region],
      failoverRole: config.dns ? (region === config.primaryRegion ? 'PRIMARY' : 'SECONDARY') : undefined,
      dashboardName: dashboardName(region),
      existingVpc: config.existingVpcs[region],
      tls: config.dns,
      runtimeEntry: options.runtimeEntry,
    });
    // Tables (with this region's replica) and every bucket this fleet writes must exist first.
    for (const dataStack of Object.values(data)) origin.addStackDependency(dataStack, 'tables, replicas and peer buckets exist before the fleet boots');
    origins[region] = origin;
  }

  const cdn = config.cdn === 'cloudfront' ? addCloudFront(app, config, origins, env(config.primaryRegion)) : undefined;

  Tags.of(app).add('app', APP_NAME);
  return { data, origins, ...(cdn ? { cdn } : {}) };
}

/**
 * CloudFront in front of the origins (docs/cdn/cloudfront.md): each origin stack gets a listener
 * only CloudFront reaches, then one distribution fails over from the primary region to the other.
 */
function addCloudFront(app: App, config: LiveOriginConfig, origins: Record<string, OriginStack>, env: Environment): CdnStack {
  const access = config.regions.map((region) => new CdnOriginAccess(origins[region]!, 'CdnOriginAccess', { fleet: origins[region]!.fleet, dns: config.dns }));
  const cdn = new CdnStack(app, STACK_NAMES_CDN, {
    env,
    description: `Live Origin CDN: CloudFront in front of ${config.regions.join(' then ')}`,
    // Without a domain, CloudFront names the other region's load balancer.
    crossRegionReferences: !config.dns,
    origins: access.map((origin, index) => ({
      region: config.regions[index]!,
      domainName: origin.originDomainName,
      protocol: origin.protocol,
      port: origin.port,
    })),
    secretName: config.secretName,
    segmentDurationMs: config.segmentDurationMs,
  });
  for (const origin of Object.values(origins)) cdn.addStackDependency(origin, "the distribution names the origins' CDN listeners");
  return cdn;
}
