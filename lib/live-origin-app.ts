/**
 * Turns the validated configuration into stacks: a data and an origin stack per region, and a
 * DNS stack when a domain is configured. `bin/live-origin.ts` calls this; so do the tests.
 */
import { Aws, Tags, type App, type Environment } from 'aws-cdk-lib';
import type { LiveOriginConfig } from './config.js';
import { APP_NAME, dashboardName, regionHealthAlarmName, segmentBucketName, STACK_NAMES } from './naming.js';
import { DataStack } from './stacks/data-stack.js';
import { DnsStack } from './stacks/dns-stack.js';
import { OriginStack } from './stacks/origin-stack.js';

export interface LiveOriginStacks {
  /** By region. */
  readonly data: Readonly<Record<string, DataStack>>;
  /** By region. */
  readonly origins: Readonly<Record<string, OriginStack>>;
  /** Present when `dns` is configured. */
  readonly dns?: DnsStack;
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
      tables: primary
        ? { tablePrefix: config.tablePrefix, replicaRegions: config.regions.filter((r) => r !== config.primaryRegion) }
        : undefined,
    });
  }

  const origins: Record<string, OriginStack> = {};
  for (const region of config.regions) {
    const peers = Object.fromEntries(config.regions.filter((r) => r !== region).map((r) => [r, bucketOf(r)]));
    const origin = new OriginStack(app, STACK_NAMES.origin(region), {
      env: env(region),
      description: `Live Origin fleet in ${region}: image, load balancer, Auto Scaling group, alarms`,
      crossRegionReferences: true,
      segmentBucketName: bucketOf(region),
      peerBuckets: peers,
      accessLogsBucket: data[region]!.segments.accessLogsBucket,
      tablePrefix: config.tablePrefix,
      secretName: config.secretName,
      instanceType: config.instanceType,
      minCapacity: config.minCapacity,
      maxCapacity: config.maxCapacity,
      healthAlarmName: regionHealthAlarmName(region),
      dashboardName: dashboardName(region),
      existingVpc: config.existingVpcs[region],
      tls: config.dns,
      runtimeEntry: options.runtimeEntry,
    });
    // Tables (with this region's replica) and every bucket this fleet writes must exist first.
    for (const dataStack of Object.values(data)) origin.addStackDependency(dataStack, 'tables, replicas and peer buckets exist before the fleet boots');
    origins[region] = origin;
  }

  let dns: DnsStack | undefined;
  if (config.dns) {
    dns = new DnsStack(app, STACK_NAMES.dns, {
      env: env(config.primaryRegion),
      description: `Live Origin failover records for ${config.dns.domainName}`,
      crossRegionReferences: true,
      domainName: config.dns.domainName,
      hostedZoneId: config.dns.hostedZoneId,
      regions: config.regions.map((region) => ({
        region,
        loadBalancer: origins[region]!.fleet.loadBalancer,
        alarmName: regionHealthAlarmName(region),
      })),
    });
    // The health checks name the composite alarms; those exist once the origin stacks do.
    for (const origin of Object.values(origins)) dns.addStackDependency(origin, 'health checks name the composite alarms');
  }

  Tags.of(app).add('app', APP_NAME);
  return { data, origins, dns };
}
