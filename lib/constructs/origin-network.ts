import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ExistingVpc } from '../config.js';
import { withDefaults } from '../defaults.js';

export interface OriginNetworkProps {
  /**
   * An existing VPC, described in full so that synth looks nothing up. Its private subnets
   * must already route to the internet (the instances reach peer-region buckets, Secrets
   * Manager, CloudWatch and CloudFormation); nothing is added to it.
   * @default - a new VPC
   */
  readonly existingVpc?: ExistingVpc;
  /**
   * Availability zones of a new VPC.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * NAT gateways of a new VPC; one per zone keeps a zone failure from cutting the other's egress.
   * @default 2
   */
  readonly natGateways?: number;
  /**
   * Address range of a new VPC.
   * @default '10.40.0.0/16'
   */
  readonly cidr?: string;
  /**
   * How long flow logs of a new VPC are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

type ResolvedProps = Required<Omit<OriginNetworkProps, 'existingVpc'>> & Pick<OriginNetworkProps, 'existingVpc'>;

/** Defaults merged under the caller's props. */
export function originNetworkDefaults(props: OriginNetworkProps): ResolvedProps {
  return withDefaults(
    {
      maxAzs: 2,
      natGateways: 2,
      cidr: '10.40.0.0/16',
      flowLogRetention: logs.RetentionDays.ONE_MONTH,
    },
    props,
  );
}

/**
 * The region's network: public subnets for the load balancer, private subnets with egress for
 * the fleet and the image build, flow logs, and gateway endpoints so that same-region S3 and
 * DynamoDB traffic skips the NAT gateways. Shared by the image build and the fleet, which is
 * why it is a construct of its own.
 */
export class OriginNetwork extends Construct {
  /** The VPC everything of this region runs in. */
  public readonly vpc: ec2.IVpc;
  /** Flow log of a new VPC (none for an imported one: it is the owner's to configure). */
  public readonly flowLog?: ec2.FlowLog;

  constructor(scope: Construct, id: string, props: OriginNetworkProps = {}) {
    super(scope, id);
    const resolved = originNetworkDefaults(props);
    validate(resolved);

    if (resolved.existingVpc) {
      const existing = resolved.existingVpc;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [...existing.availabilityZones],
        publicSubnetIds: [...existing.publicSubnetIds],
        privateSubnetIds: [...existing.privateSubnetIds],
      });
      return;
    }

    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(resolved.cidr),
      maxAzs: resolved.maxAzs,
      natGateways: resolved.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: resolved.flowLogRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.flowLog = vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      // Rejected flows are what network troubleshooting needs; ALL would log every segment fetch.
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    this.vpc = vpc;
  }
}

function validate(props: ResolvedProps): void {
  if (props.existingVpc) return;
  if (!Number.isInteger(props.maxAzs) || props.maxAzs < 2) {
    throw new Error(`OriginNetwork: maxAzs must be at least 2 (a load balancer needs two zones), got ${props.maxAzs}`);
  }
  if (!Number.isInteger(props.natGateways) || props.natGateways < 1 || props.natGateways > props.maxAzs) {
    throw new Error(`OriginNetwork: natGateways must be between 1 and maxAzs (${props.maxAzs}), got ${props.natGateways}`);
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}\/(1[6-8])$/.test(props.cidr)) {
    // Two /24 public and two /20 private subnets need at least a /18.
    throw new Error(`OriginNetwork: cidr must be an IPv4 block from /16 to /18, got "${props.cidr}"`);
  }
}
