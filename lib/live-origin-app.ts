/**
 * Turns the validated configuration into stacks: a data and an origin stack per region. With a
 * domain, each origin stack also holds its region's failover record and health checks, so no
 * value crosses regions (see docs/deploy.md, "Cross-region values"). `bin/live-origin.ts` calls
 * this; so do the tests.
 */
import { type App, Aws, type Environment, Tags } from 'aws-cdk-lib';
import type { LiveOriginConfig } from './config.js';
import { CdnOriginAccess } from './constructs/cdn-origin-access.js';
import { regionCapacity } from './event-capacity.js';
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
  /**
   * The synth's clock (ms since the epoch): event windows under way raise the minimum now.
   * @default Date.now()
   */
  readonly now?: number;
}

export function addLiveOriginStacks(app: App, config: LiveOriginConfig, options: LiveOriginAppOptions = {}): LiveOriginStacks {
  const env = (region: string): Environment => (config.account ? { account: config.account, region } : { region });
  // All regions deploy into one account, so the pseudo parameter names the same account everywhere.
  const account = config.account ?? Aws.ACCOUNT_ID;
  const bucketOf = (region: string): string => segmentBucketName(account, region);

  const data: Record<string, DataStack> = {};
  for (const region of config.regions) {
    // The tables stay in the home region whatever serves first: moving them would recreate them.
    const home = region === config.homeRegion;
    data[region] = new DataStack(app, STACK_NAMES.data(region), {
      env: env(region),
      description: `Live Origin state in ${region}: segment bucket${home ? ', global metadata tables' : ''}`,
      segmentBucketName: bucketOf(region),
      windowSegments: config.windowSegments,
      segmentDurationMs: config.segmentDurationMs,
      tables: home ? { tablePrefix: config.tablePrefix, replicaRegions: config.regions.filter((r) => r !== config.homeRegion) } : undefined,
    });
  }

  const origins: Record<string, OriginStack> = {};
  for (const region of config.regions) {
    const peers = Object.fromEntries(config.regions.filter((r) => r !== region).map((r) => [r, bucketOf(r)]));
    const capacity = regionCapacity(config.eventWindows, config.minCapacity[region]!, options.now ?? Date.now());
    const origin = new OriginStack(app, STACK_NAMES.origin(region), {
      env: env(region),
      description: `Live Origin fleet in ${region}: image, load balancer, Auto Scaling group, alarms${config.dns ? ', failover record' : ''}`,
      segmentBucketName: bucketOf(region),
      peerBuckets: peers,
      accessLogsBucket: data[region]!.segments.accessLogsBucket,
      tablePrefix: config.tablePrefix,
      secretName: config.secretName,
      instanceType: config.instanceType,
      minCapacity: capacity.minCapacity,
      maxCapacity: config.maxCapacity,
      scheduledCapacity: capacity.scheduled,
      loadBalancerCapacityUnits: config.loadBalancerCapacityUnits,
      ingestSources: config.ingestSources,
      ingestRateLimit: config.ingestRateLimit,
      patchEpoch: config.patchEpoch,
      healthAlarmName: regionHealthAlarmName(region),
      alarmNames: alarmNames(region),
      alarmEmails: config.alarms.topicArns[region] ? [] : config.alarms.emails,
      alarmTopicArn: config.alarms.topicArns[region],
      // Fixed to the home region: Route 53 fails over and back by itself, and two PRIMARY records
      // for one name cannot exist even for the moment a swap would take.
      failoverRole: config.dns ? (region === config.homeRegion ? 'PRIMARY' : 'SECONDARY') : undefined,
      dashboardName: dashboardName(region),
      existingVpc: config.existingVpcs[region],
      tls: config.dns,
      runtimeEntry: options.runtimeEntry,
    });
    // Tables (with this region's replica) and every bucket this fleet writes must exist first.
    for (const dataStack of Object.values(data)) origin.addStackDependency(dataStack, 'tables, replicas and peer buckets exist before the fleet boots');
    origins[region] = origin;
  }

  const cdn = config.cdn === 'cloudfront' ? addCloudFront(app, config, origins, env(config.homeRegion)) : undefined;

  Tags.of(app).add('app', APP_NAME);
  return { data, origins, ...(cdn ? { cdn } : {}) };
}

/**
 * CloudFront in front of the origins (docs/cdn/cloudfront.md): each origin stack gets a listener
 * only CloudFront reaches, then one distribution, in the home region, fails over from the primary
 * region (`primaryRegion`, CloudFront's origin order) to the other.
 */
function addCloudFront(app: App, config: LiveOriginConfig, origins: Record<string, OriginStack>, env: Environment): CdnStack {
  const access = Object.fromEntries(
    config.regions.map((region) => [region, new CdnOriginAccess(origins[region]!, 'CdnOriginAccess', { fleet: origins[region]!.fleet, dns: config.dns })]),
  );
  const order = [config.primaryRegion, ...config.regions.filter((region) => region !== config.primaryRegion)];
  const cdn = new CdnStack(app, STACK_NAMES_CDN, {
    env,
    // The origin order is in the distribution, never in the stack's description or name.
    description: `Live Origin CDN: CloudFront in front of ${config.regions.join(' and ')}`,
    // Without a domain, CloudFront names the other region's load balancer.
    crossRegionReferences: !config.dns,
    origins: order.map((region) => ({
      region,
      domainName: access[region]!.originDomainName,
      protocol: access[region]!.protocol,
      port: access[region]!.port,
    })),
    secretName: config.secretName,
    secretVersionId: config.cdnSecretVersionId,
    segmentDurationMs: config.segmentDurationMs,
  });
  for (const origin of Object.values(origins)) cdn.addStackDependency(origin, "the distribution names the origins' CDN listeners");
  return cdn;
}
