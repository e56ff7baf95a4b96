import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { componentDocument, OriginImage, systemdUnit } from '../../../lib/constructs/origin-image.js';
import { FIXTURE_ENTRY, importedVpc, newApp, regionalStack, resourcesOf, template } from '../helpers.js';

function build(props: Partial<ConstructorParameters<typeof OriginImage>[2]> = {}) {
  const app = newApp();
  const stack = regionalStack(app);
  const image = new OriginImage(stack, 'Image', { vpc: importedVpc(stack), entry: FIXTURE_ENTRY, ...props });
  return { app, stack, image, tpl: template(stack) };
}

describe('OriginImage', () => {
  const { app, image, tpl, stack } = build();
  const componentData = (): string => {
    const [[, props]] = resourcesOf(tpl, 'AWS::ImageBuilder::Component') as [[string, { Data: unknown }]];
    return JSON.stringify(stack.resolve(props.Data));
  };

  it('bundles the entry locally into server.mjs', () => {
    const assembly = app.synth();
    const assetDir = join(assembly.directory, `asset.${image.bundle.assetHash}`);
    expect(existsSync(join(assetDir, 'server.mjs'))).toBe(true);
  });

  it('builds on the Amazon Linux 2023 arm64 parent image', () => {
    tpl.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      ParentImage: { 'Fn::Join': ['', Match.arrayWith([':aws:image/amazon-linux-2023-arm64/x.x.x'])] },
    });
  });

  it('installs Node.js 22 and pins node to it', () => {
    expect(componentData()).toContain('dnf install -y nodejs22');
    expect(componentData()).toContain('alternatives --set node /usr/bin/node-22');
  });

  it('downloads the bundle asset and unpacks it into /opt/live-origin', () => {
    expect(componentData()).toContain('S3Download');
    expect(componentData()).toContain(image.bundle.s3ObjectKey);
    expect(componentData()).toContain('unzip -o /tmp/live-origin-bundle.zip -d /opt/live-origin');
  });

  it('installs the live-origin.service unit', () => {
    expect(componentData()).toContain('/etc/systemd/system/live-origin.service');
    expect(componentData()).toContain('ExecStart=/usr/bin/node /opt/live-origin/server.mjs');
  });

  it('builds in a private subnet with IMDSv2 only', () => {
    tpl.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', {
      SubnetId: 'subnet-0bbbbbbbbbbbbbbb1',
      InstanceTypes: ['c7g.large'],
      InstanceMetadataOptions: { HttpTokens: 'required' },
      TerminateInstanceOnFailure: true,
    });
  });

  it('lets the build instance read only the bundle object', () => {
    tpl.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyName: 'bundle',
          PolicyDocument: {
            Statement: [
              Match.objectLike({
                Action: 's3:GetObject',
                Resource: { 'Fn::Join': ['', Match.arrayWith([`/${image.bundle.s3ObjectKey}`])] },
              }),
            ],
          },
        },
      ],
    });
  });

  it('produces the image from the recipe, with tests on', () => {
    tpl.hasResourceProperties('AWS::ImageBuilder::Image', {
      ImageRecipeArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Recipe'), 'Arn'] },
      ImageTestsConfiguration: { ImageTestsEnabled: true },
    });
    expect(stack.resolve(image.imageId)).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(image.image), 'ImageId'] });
  });

  it('renames the component when its content changes, so CloudFormation can replace it', () => {
    const other = build({ stopTimeout: Duration.seconds(90) });
    expect(other.image.component.name).not.toBe(image.component.name);
    expect(other.image.recipe.name).not.toBe(image.recipe.name);
  });

  it('refuses an x86 build instance', () => {
    expect(() => build({ buildInstanceType: 'c7i.large' })).toThrow(/arm64/);
  });

  it('refuses a missing entry', () => {
    expect(() => build({ entry: '/nonexistent/server.ts' })).toThrow(/does not exist/);
  });
});

describe('systemdUnit', () => {
  const unit = systemdUnit({ stopTimeout: Duration.seconds(60) });

  it('runs node on the bundle with the boot-time environment file', () => {
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/live-origin/server.mjs');
    expect(unit).toContain('EnvironmentFile=/etc/live-origin/env');
  });

  it('restarts always and leaves SIGTERM time to drain', () => {
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('KillSignal=SIGTERM');
    expect(unit).toContain('TimeoutStopSec=60');
  });

  it('runs unprivileged', () => {
    expect(unit).toContain('User=live-origin');
  });
});

describe('componentDocument', () => {
  it('declares AWSTOE schema version 1.0', () => {
    expect(componentDocument({ bundleS3Uri: 's3://b/k.zip', unit: 'x' })).toContain('"schemaVersion": 1.0,');
  });
});
