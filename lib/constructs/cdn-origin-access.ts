import { Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { CDN_DISTRIBUTION_TAG } from '../naming.js';
import { DELIVERY_PATH_PATTERN } from './cdn-distribution.js';
import type { OriginFleet } from './origin-fleet.js';

/**
 * AWS's managed prefix list of CloudFront's origin-facing addresses. Its id differs per region
 * and it is only visible through the EC2 API, so it is looked up at deploy time.
 */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';
/** The load balancer's listener for CloudFront: HTTPS with a domain, HTTP for trials without one. */
export const CDN_LISTENER_PORTS = { https: 8443, http: 8081 } as const;
/** Construct id of the CDK's singleton provider behind every AwsCustomResource of a stack. */
const PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
/** Public-listener rule priority of the refusal of direct delivery (before the fleet's own rules). */
const DIRECT_DELIVERY_PRIORITY = 2;

/** The name CloudFront reaches `region`'s load balancer by: `<region>.<domainName>`. */
export function cdnOriginName(domainName: string, region: string): string {
  return `${region}.${domainName}`;
}

export interface CdnOriginAccessProps {
  /** The region's fleet: its load balancer, security group and delivery target group. */
  readonly fleet: OriginFleet;
  /**
   * The origin's public name and zone: CloudFront then connects over HTTPS to
   * `<region>.<domainName>`, with a certificate for that name.
   * @default - HTTP to the load balancer's own name (trials without a domain)
   */
  readonly dns?: { readonly domainName: string; readonly hostedZoneId: string };
}

/**
 * The origin side of the CDN: a listener only CloudFront can reach (its managed origin-facing
 * prefix list is the only source allowed on that port) that forwards `/live/*` and nothing else,
 * and a refusal of delivery on the public listener, which stays open to packagers for ingest.
 * The runtime still checks `Live-CDN-Auth` on every delivery request: the prefix list admits
 * every CloudFront distribution, not only ours.
 */
export class CdnOriginAccess extends Construct {
  public readonly listener: elbv2.ApplicationListener;
  /** Deploy-time lookup of the prefix list id in this region. */
  public readonly prefixListId: string;
  /** Where CloudFront connects: the regional name with a domain, else the load balancer's name. */
  public readonly originDomainName: string;
  public readonly protocol: 'https' | 'http';
  public readonly port: number;
  public readonly certificate?: acm.Certificate;

  constructor(scope: Construct, id: string, props: CdnOriginAccessProps) {
    super(scope, id);
    const { fleet, dns } = props;
    const region = fleet.loadBalancer.stack.region;
    this.protocol = dns ? 'https' : 'http';
    this.port = CDN_LISTENER_PORTS[this.protocol];

    const lookup = new cr.AwsCustomResource(this, 'PrefixListLookup', {
      resourceType: 'Custom::CloudFrontOriginFacingPrefixList',
      onUpdate: {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST] }] },
        physicalResourceId: cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        // DescribeManagedPrefixLists has no resource-level permissions.
        new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
    });
    this.prefixListId = lookup.getResponseField('PrefixLists.0.PrefixListId');
    acknowledge(
      lookup,
      { rule: 'IAM5', resource: '*' },
      'ec2:DescribeManagedPrefixLists has no resource-level permissions; the lookup reads one AWS-managed list by name.',
    );
    // The custom resources' shared provider function (one per stack, outside this construct).
    const provider = Stack.of(this).node.tryFindChild(PROVIDER_ID);
    if (provider) {
      acknowledge(
        provider,
        { rule: 'IAM4', managedPolicy: 'service-role/AWSLambdaBasicExecutionRole' },
        'The CDK custom-resource provider that looks the prefix list up writes only its own logs; AWS maintains this ' +
          'policy as exactly that, and the lookup itself gets one inline statement.',
      );
    }

    // One rule: the list weighs about 55 of a security group's 60 rules (AWS quota), so
    // CloudFront gets one port, not two.
    fleet.loadBalancerSecurityGroup.addIngressRule(
      ec2.Peer.prefixList(this.prefixListId),
      ec2.Port.tcp(this.port),
      `CloudFront origin-facing addresses only (${CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST})`,
    );

    let certificates: acm.ICertificate[] | undefined;
    if (dns) {
      this.originDomainName = cdnOriginName(dns.domainName, region);
      const zone = route53.HostedZone.fromHostedZoneId(this, 'Zone', dns.hostedZoneId);
      this.certificate = new acm.Certificate(this, 'Certificate', {
        domainName: this.originDomainName,
        validation: acm.CertificateValidation.fromDns(zone),
      });
      certificates = [this.certificate];
      new route53.ARecord(this, 'RegionalName', {
        zone,
        recordName: `${this.originDomainName}.`,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(fleet.loadBalancer)),
        comment: `CloudFront's name for the ${region} origin (no failover: the origin group does that)`,
      });
    } else {
      this.originDomainName = fleet.loadBalancer.loadBalancerDnsName;
    }

    this.listener = fleet.loadBalancer.addListener('Cdn', {
      port: this.port,
      protocol: dns ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      certificates,
      sslPolicy: dns ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody: '{"error":"not_found","reason":"only /live/* is served to the CDN"}',
      }),
    });
    this.listener.addAction('Delivery', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns([DELIVERY_PATH_PATTERN])],
      action: elbv2.ListenerAction.forward([fleet.deliveryTargetGroup]),
    });

    this.allowInvalidations(fleet);

    fleet.listener.addAction('DeliveryThroughCdnOnly', {
      priority: DIRECT_DELIVERY_PRIORITY,
      conditions: [elbv2.ListenerCondition.pathPatterns([DELIVERY_PATH_PATTERN])],
      action: elbv2.ListenerAction.fixedResponse(403, {
        contentType: 'application/json',
        messageBody: '{"error":"forbidden","reason":"delivery is served through the CDN"}',
      }),
    });
  }

  /**
   * Purges become invalidations (runtime/adapters/cloudfront-purger.ts). The distribution is
   * created after this stack (it names this listener), so its id cannot be named here without a
   * value crossing regions; the grant is limited instead to distributions carrying this app's
   * CDN tag (CDN_DISTRIBUTION_TAG, set by the CDN stack), and to this action.
   */
  private allowInvalidations(fleet: OriginFleet): void {
    const stack = Stack.of(this);
    const distributions = stack.formatArn({ service: 'cloudfront', region: '', resource: 'distribution', resourceName: '*' });
    fleet.instanceRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CdnInvalidations',
        actions: ['cloudfront:CreateInvalidation'],
        resources: [distributions],
        conditions: { StringEquals: { [`aws:ResourceTag/${CDN_DISTRIBUTION_TAG.key}`]: CDN_DISTRIBUTION_TAG.value } },
      }),
    );
    acknowledge(
      fleet.instanceRole,
      { rule: 'IAM5', resource: distributions },
      "The CDN distribution is created after the fleet (it names the fleet's listener), so its id is not known here; the " +
        "grant is limited by condition to distributions tagged as this app's CDN, and CreateInvalidation only drops cached copies.",
    );
  }
}
