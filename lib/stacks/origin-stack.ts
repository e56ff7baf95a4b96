import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ExistingVpc } from '../config.js';
import { OriginAlarms } from '../constructs/origin-alarms.js';
import { OriginFleet } from '../constructs/origin-fleet.js';
import { OriginImage } from '../constructs/origin-image.js';
import { OriginNetwork } from '../constructs/origin-network.js';

export interface OriginStackProps extends StackProps {
  /** This region's segment bucket, by name (it lives in the region's data stack). */
  readonly segmentBucketName: string;
  /** The other regions' segment buckets, by region. */
  readonly peerBuckets: Readonly<Record<string, string>>;
  /**
   * Where the load balancer writes access logs.
   * @default - no load balancer access logs
   */
  readonly accessLogsBucket?: s3.IBucket;
  /** Prefix of the metadata tables. */
  readonly tablePrefix: string;
  /** Secrets Manager secret with the runtime's tokens. */
  readonly secretName: string;
  /** Fleet instance type (Graviton). */
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Fixed name of this region's composite health alarm. */
  readonly healthAlarmName: string;
  /**
   * Name of this region's dashboard.
   * @default - generated
   */
  readonly dashboardName?: string;
  /**
   * An existing VPC to run in.
   * @default - a new VPC
   */
  readonly existingVpc?: ExistingVpc;
  /**
   * The public name and its zone: with them the origin serves HTTPS.
   * @default - plain HTTP
   */
  readonly tls?: { readonly domainName: string; readonly hostedZoneId: string };
  /**
   * Server entry to bundle into the AMI.
   * @default runtime/server.ts
   */
  readonly runtimeEntry?: string;
}

/** One region's origin: network, baked image, fleet behind a load balancer, alarms. */
export class OriginStack extends Stack {
  public readonly network: OriginNetwork;
  public readonly image: OriginImage;
  public readonly fleet: OriginFleet;
  public readonly alarms: OriginAlarms;

  constructor(scope: Construct, id: string, props: OriginStackProps) {
    super(scope, id, props);
    this.network = new OriginNetwork(this, 'Network', { existingVpc: props.existingVpc });
    this.image = new OriginImage(this, 'Image', { vpc: this.network.vpc, entry: props.runtimeEntry });
    this.fleet = new OriginFleet(this, 'Fleet', {
      vpc: this.network.vpc,
      machineImage: this.image.machineImage,
      segmentBucket: s3.Bucket.fromBucketName(this, 'SegmentBucket', props.segmentBucketName),
      peerBuckets: props.peerBuckets,
      accessLogsBucket: props.accessLogsBucket,
      tablePrefix: props.tablePrefix,
      secretName: props.secretName,
      instanceType: props.instanceType,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      tls: props.tls && {
        domainName: props.tls.domainName,
        hostedZone: route53.HostedZone.fromHostedZoneId(this, 'Zone', props.tls.hostedZoneId),
      },
    });
    this.alarms = new OriginAlarms(this, 'Alarms', {
      loadBalancer: this.fleet.loadBalancer,
      deliveryTargetGroup: this.fleet.deliveryTargetGroup,
      ingestTargetGroup: this.fleet.ingestTargetGroup,
      compositeAlarmName: props.healthAlarmName,
      dashboardName: props.dashboardName,
    });

    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: 'Regional origin endpoint (test it directly; clients use the failover name)',
      value: this.fleet.loadBalancer.loadBalancerDnsName,
    });
    new CfnOutput(this, 'RegionHealthAlarm', {
      description: 'Composite alarm that Route 53 follows for this region',
      value: this.alarms.regionHealth.alarmName,
    });
    new CfnOutput(this, 'ImageId', { description: 'The baked origin AMI', value: this.image.imageId });
  }
}
