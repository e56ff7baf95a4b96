import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../lib/config.js';
import { CDN_LISTENER_PORTS, CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST } from '../../../lib/constructs/cdn-origin-access.js';
import { addLiveOriginStacks, type LiveOriginStacks, STACK_NAMES_CDN } from '../../../lib/live-origin-app.js';
import { STACK_NAMES } from '../../../lib/naming.js';
import { FIXTURE_ENTRY, logicalId, newApp, resourcesOf, template, twoRegionConfig } from '../helpers.js';

const [east, west] = ['us-east-1', 'eu-west-1'] as const;

function build(overrides: Parameters<typeof twoRegionConfig>[0] = {}): { app: App; stacks: LiveOriginStacks } {
  const app = newApp();
  const stacks = addLiveOriginStacks(app, twoRegionConfig({ cdn: 'cloudfront', ...overrides }), { runtimeEntry: FIXTURE_ENTRY });
  return { app, stacks };
}

interface Origin {
  Id: string;
  DomainName: unknown;
  CustomOriginConfig: { OriginProtocolPolicy: string; HTTPSPort?: number; HTTPPort?: number };
}

function originsOf(tpl: Template): Origin[] {
  const [[, props]] = resourcesOf(tpl, 'AWS::CloudFront::Distribution') as [
    [string, { DistributionConfig: { Origins: Origin[]; OriginGroups: { Items: { Members: { Items: { OriginId: string }[] } }[] } } }],
  ];
  const byId = new Map(props.DistributionConfig.Origins.map((origin) => [origin.Id, origin]));
  return props.DistributionConfig.OriginGroups.Items[0]!.Members.Items.map((member) => byId.get(member.OriginId)!);
}

const withDns = build();
const cdnTpl = template(withDns.stacks.cdn!);
const originTpl = { [east]: template(withDns.stacks.origins[east]!), [west]: template(withDns.stacks.origins[west]!) };

describe('CdnStack with a domain', () => {
  it('is one stack, in the home region, deployed after both origin stacks', () => {
    const cdn = withDns.stacks.cdn!;
    expect(cdn.stackName).toBe(STACK_NAMES_CDN);
    expect(cdn.region).toBe(east);
    expect(cdn.dependencies.map((stack) => stack.stackName).sort()).toEqual([STACK_NAMES.origin(east), STACK_NAMES.origin(west)].sort());
  });

  it('reaches each region by its own name over HTTPS, primary first, with no value crossing regions', () => {
    expect(originsOf(cdnTpl).map((origin) => [origin.DomainName, origin.CustomOriginConfig.OriginProtocolPolicy, origin.CustomOriginConfig.HTTPSPort])).toEqual(
      [
        [`${east}.origin.example.com`, 'https-only', CDN_LISTENER_PORTS.https],
        [`${west}.origin.example.com`, 'https-only', CDN_LISTENER_PORTS.https],
      ],
    );
    cdnTpl.resourceCountIs('Custom::CrossRegionExportReader', 0);
    originTpl[west].resourceCountIs('Custom::CrossRegionExportWriter', 0);
  });

  it('fails over by changing the origin order only: the CDN stack, the tables and every other template stay put', () => {
    const flipped = build({ primaryRegion: west });
    expect(flipped.stacks.cdn!.region).toBe(east);
    expect(flipped.stacks.cdn!.stackName).toBe(STACK_NAMES_CDN);
    expect(originsOf(template(flipped.stacks.cdn!)).map((origin) => origin.DomainName)).toEqual([`${west}.origin.example.com`, `${east}.origin.example.com`]);
    template(flipped.stacks.data[east]!).resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    template(flipped.stacks.data[west]!).resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    for (const region of [east, west]) {
      expect(template(flipped.stacks.data[region]!).toJSON()).toEqual(template(withDns.stacks.data[region]!).toJSON());
      expect(template(flipped.stacks.origins[region]!).toJSON()).toEqual(originTpl[region].toJSON());
    }
    // Only the distribution's origin order (and what CloudFormation derives from it) differs.
    const before = JSON.stringify(cdnTpl.toJSON());
    const after = JSON.stringify(template(flipped.stacks.cdn!).toJSON());
    expect(after).not.toBe(before);
    expect(after.length).toBe(before.length);
  });

  it('refuses a home region outside regions', () => {
    expect(() => build({ homeRegion: 'us-west-2' })).toThrow(ConfigError);
  });

  it('tags the distribution so that only it may be invalidated by the instances', () => {
    const [[, distribution]] = resourcesOf(cdnTpl, 'AWS::CloudFront::Distribution');
    expect(distribution!.Tags).toEqual(expect.arrayContaining([{ Key: 'live-origin:cdn', Value: STACK_NAMES_CDN }]));
    const instancePolicy = JSON.stringify(originTpl[east].toJSON());
    expect(instancePolicy).toContain('"aws:ResourceTag/live-origin:cdn":"LiveOrigin-Cdn"');
  });

  it('pins the CDN secret to a version when one is given (a rotation re-resolves it)', () => {
    const pinned = build({ cdnSecretVersionId: '0123456789abcdef0123456789abcdef' });
    expect(JSON.stringify(template(pinned.stacks.cdn!).toJSON())).toContain(
      '{{resolve:secretsmanager:live-origin/runtime:SecretString:LIVE_ORIGIN_CDN_SECRET::0123456789abcdef0123456789abcdef}}',
    );
  });

  it('outputs the distribution id that the runtime secret takes', () => {
    cdnTpl.hasOutput('DistributionId', { Description: Match.stringLikeRegexp('LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID') });
  });
});

describe('the origin side of the CDN, in each region', () => {
  it.each([east, west])('%s: looks up the CloudFront origin-facing prefix list at deploy time', (region) => {
    originTpl[region].hasResourceProperties('Custom::CloudFrontOriginFacingPrefixList', {
      Create: Match.serializedJson(
        Match.objectLike({
          service: 'EC2',
          action: 'describeManagedPrefixLists',
          parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST] }] },
        }),
      ),
    });
  });

  it.each([east, west])('%s: admits only that prefix list on the CDN port', (region) => {
    const stack = withDns.stacks.origins[region]!;
    const [[lookupId]] = resourcesOf(originTpl[region], 'Custom::CloudFrontOriginFacingPrefixList');
    const groupId = logicalId(stack.fleet.loadBalancerSecurityGroup);
    // Rules inline in the group, and rules CDK writes as resources of their own.
    const inline = resourcesOf(originTpl[region], 'AWS::EC2::SecurityGroup')
      .filter(([id]) => id === groupId)
      .flatMap(([, props]) => (props.SecurityGroupIngress ?? []) as Record<string, unknown>[]);
    const separate = resourcesOf(originTpl[region], 'AWS::EC2::SecurityGroupIngress')
      .map(([, props]) => props)
      .filter((props) => JSON.stringify(props.GroupId) === JSON.stringify({ 'Fn::GetAtt': [groupId, 'GroupId'] }));
    const onCdnPort = [...inline, ...separate].filter((rule) => rule.FromPort === CDN_LISTENER_PORTS.https);
    expect(onCdnPort).toEqual([
      expect.objectContaining({ SourcePrefixListId: { 'Fn::GetAtt': [lookupId, 'PrefixLists.0.PrefixListId'] }, ToPort: CDN_LISTENER_PORTS.https }),
    ]);
    expect(onCdnPort[0]).not.toHaveProperty('CidrIp');
  });

  it.each([east, west])('%s: the CDN listener forwards /live/* and answers everything else 404', (region) => {
    const tpl = originTpl[region];
    const [[listenerId]] = resourcesOf(tpl, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, props]) => props.Port === CDN_LISTENER_PORTS.https);
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: CDN_LISTENER_PORTS.https,
      Protocol: 'HTTPS',
      DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: { Ref: listenerId },
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/live/*'] } }],
      Actions: [Match.objectLike({ Type: 'forward', TargetGroupArn: { Ref: logicalId(withDns.stacks.origins[region]!.fleet.deliveryTargetGroup) } })],
    });
  });

  it.each([east, west])('%s: the public listener refuses delivery (it stays open for ingest)', (region) => {
    const stack = withDns.stacks.origins[region]!;
    originTpl[region].hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: { Ref: logicalId(stack.fleet.listener) },
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/live/*'] } }],
      Actions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403' }) })],
    });
  });

  it.each([east, west])('%s: names the load balancer <region>.<domain> with a certificate for that name', (region) => {
    originTpl[region].hasResourceProperties('AWS::Route53::RecordSet', {
      Name: `${region}.origin.example.com.`,
      Type: 'A',
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
    originTpl[region].hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: `${region}.origin.example.com` });
  });

  it.each([east, west])('%s: lets the instances create invalidations, and nothing else on CloudFront', (region) => {
    const statements = resourcesOf(originTpl[region], 'AWS::IAM::Policy').flatMap(
      ([, props]) => (props.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
    );
    const cloudfront = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('cloudfront:')));
    expect(cloudfront.map((statement) => statement.Action)).toEqual(['cloudfront:CreateInvalidation']);
  });
});

describe('CdnStack without a domain (trials)', () => {
  const plain = build({ domainName: '', hostedZoneId: '' });
  const tpl = template(plain.stacks.cdn!);

  it("reaches each load balancer over HTTP on the CDN port, the other region's name read across regions", () => {
    const origins = originsOf(tpl);
    expect(origins.map((origin) => [origin.CustomOriginConfig.OriginProtocolPolicy, origin.CustomOriginConfig.HTTPPort])).toEqual([
      ['http-only', CDN_LISTENER_PORTS.http],
      ['http-only', CDN_LISTENER_PORTS.http],
    ]);
    expect(JSON.stringify(origins[0]!.DomainName)).toContain('LoadBalancer');
    expect(JSON.stringify(origins[1]!.DomainName)).toContain('ExportsReader');
  });
});

describe('the cdn context key', () => {
  it('takes cloudfront, or none', () => {
    expect(parseConfig({ cdn: 'CloudFront' }).cdn).toBe('cloudfront');
    expect(parseConfig({ cdn: 'none' }).cdn).toBeUndefined();
    expect(parseConfig({}).cdn).toBeUndefined();
  });

  it('refuses other CDNs and more than two regions, saying why', () => {
    expect(() => parseConfig({ cdn: 'akamai' })).toThrow(/cdn must be cloudfront/);
    expect(() => parseConfig({ cdn: 'cloudfront', regions: 'us-east-1,eu-west-1,ap-southeast-2' })).toThrow(ConfigError);
    expect(() => parseConfig({ cdn: 'cloudfront', regions: 'us-east-1,eu-west-1,ap-southeast-2' })).toThrow(/one primary and one failover/);
  });
});

describe('without cdn', () => {
  it('adds no CDN stack and no CloudFront-only listener', () => {
    const { stacks } = build({ cdn: '' });
    expect(stacks.cdn).toBeUndefined();
    template(stacks.origins[east]!).resourceCountIs('Custom::CloudFrontOriginFacingPrefixList', 0);
  });
});

interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs: { readonly constructPath: string }[];
}

/** Synthesizes under the AwsSolutions pack, as bin/ does, and lists what is not acknowledged. */
function nagFindings(overrides: Parameters<typeof twoRegionConfig>[0]): { findings: string[]; error?: unknown } {
  const { app } = build(overrides);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    error = caught;
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: Violation[] }[];
  };
  const findings = report.pluginReports
    .filter((plugin) => plugin.pluginName === 'AwsSolutions')
    .flatMap((plugin) => plugin.violations)
    .flatMap((violation) => violation.violatingConstructs.map((c) => `${violation.ruleName} at ${c.constructPath}`));
  return { findings, error };
}

describe('cdk-nag AwsSolutions with cdn=cloudfront', () => {
  it('finds nothing unacknowledged with a domain', () => {
    const { findings, error } = nagFindings({});
    expect(findings).toEqual([]);
    expect(error).toBeUndefined();
  });

  it('finds nothing unacknowledged without a domain', () => {
    const { findings, error } = nagFindings({ domainName: '', hostedZoneId: '' });
    expect(findings).toEqual([]);
    expect(error).toBeUndefined();
  });
});
