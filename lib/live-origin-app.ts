/**
 * Turns the validated configuration into stacks: a data and an origin stack per region. With a
 * domain, each origin stack also holds its region's failover record and health checks, so no
 * value crosses regions (see docs/deploy.md, "Cross-region values"). `bin/live-origin.ts` calls
 * this; so do the tests.
 */
import { Aws, Tags, type App, type Environment } from 'aws-cdk-lib';
import type { LiveOriginConfig } from './config.js';
import { alarmNames, APP_NAME, dashboardName, regionHealthAlarmName, segmentBucketName, STACK_NAMES } from './naming.js';
import { DataStack } from './stacks/data-stack.js';
import { OriginStack } from './stacks/origin-stack.js';

export interface LiveOriginStacks {
  /** By region. */
  readonly data: Readonly<Record<string, DataStack>>;
  /** By region; with `dns` configured each holds its region's failover record. */
  readonly origins: Readonly<Record<string, OriginStack>>;
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

  Tags.of(app).add('app', APP_NAME);
  return { data, origins };
}
