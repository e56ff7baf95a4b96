import { Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { type FailoverRegion, RegionalFailover } from '../constructs/regional-failover.js';

export interface DnsStackProps extends StackProps {
  /** The name that fails over. */
  readonly domainName: string;
  /** The public hosted zone holding it. */
  readonly hostedZoneId: string;
  /** Primary first, then secondary. */
  readonly regions: readonly FailoverRegion[];
}

/** The global entry point: failover records and the health checks that steer them. */
export class DnsStack extends Stack {
  public readonly failover: RegionalFailover;

  constructor(scope: Construct, id: string, props: DnsStackProps) {
    super(scope, id, props);
    this.failover = new RegionalFailover(this, 'Failover', {
      hostedZone: route53.HostedZone.fromHostedZoneId(this, 'Zone', props.hostedZoneId),
      domainName: props.domainName,
      regions: props.regions,
    });
  }
}
