import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CdnDistribution, type CdnOrigin } from '../constructs/cdn-distribution.js';
import { CDN_DISTRIBUTION_TAG } from '../naming.js';

export interface CdnStackProps extends StackProps {
  /** Primary region first, then its failover. */
  readonly origins: readonly CdnOrigin[];
  /** The runtime secret, same name in every region; this stack resolves the one of its own region. */
  readonly secretName: string;
  /** Longest segment duration in use, in milliseconds. */
  readonly segmentDurationMs: number;
  /**
   * Version of the runtime secret whose CDN secret CloudFront sends (context `cdnSecretVersionId`).
   * CloudFormation resolves a secret only when the reference changes, so a rotation names the
   * new version here.
   * @default - the current version (AWSCURRENT), resolved at the distribution's creation
   */
  readonly secretVersionId?: string;
  /**
   * Key the cache on `Origin` (for a `LIVE_ORIGIN_CORS_ORIGINS` list).
   * @default false
   */
  readonly cacheByOrigin?: boolean;
}

/**
 * The CDN tier on AWS: one CloudFront distribution in front of every region's origin. It lives in
 * the home region (CloudFront itself is global; the CDN secret is resolved from the home
 * region's secret, the one rotations write), whatever the origins' order, and deploys after the
 * origin stacks, whose listeners it names.
 */
export class CdnStack extends Stack {
  public readonly cdn: CdnDistribution;

  constructor(scope: Construct, id: string, props: CdnStackProps) {
    super(scope, id, props);
    this.cdn = new CdnDistribution(this, 'Cdn', {
      origins: props.origins,
      secretName: props.secretName,
      segmentDurationMs: props.segmentDurationMs,
      cacheByOrigin: props.cacheByOrigin,
      secretVersionId: props.secretVersionId,
    });
    // The origins' instances may invalidate only a distribution with this tag.
    Tags.of(this.cdn.distribution).add(CDN_DISTRIBUTION_TAG.key, CDN_DISTRIBUTION_TAG.value);

    new CfnOutput(this, 'DistributionId', {
      description: 'Put it in the runtime secret as LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID so purges become invalidations',
      value: this.cdn.distribution.distributionId,
    });
    new CfnOutput(this, 'DistributionDomainName', {
      description: 'Players fetch https://<this>/live/{event}/...',
      value: this.cdn.distribution.distributionDomainName,
    });
  }
}
