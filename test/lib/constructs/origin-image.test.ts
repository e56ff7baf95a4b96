import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Tags } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { componentDocument } from '../../../lib/constructs/image-component.js';
import { OriginImage } from '../../../lib/constructs/origin-image.js';
import { contentVersion } from '../../../lib/content-version.js';
import { INSTANCE_PROGRAMS, instanceProgram, RUNTIME_LOG_FILE } from '../../../lib/instance/paths.js';
import { LOGROTATE_CONFIG, systemdUnit, TIMERS, timerUnits } from '../../../lib/instance/units.js';
import { cdkJsonContext, FIXTURE_ENTRY, importedVpc, newApp, regionalStack, resourcesOf, template } from '../helpers.js';

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

  const versions = (built: ReturnType<typeof build>) => {
    const [[, component]] = resourcesOf(built.tpl, 'AWS::ImageBuilder::Component');
    const [[, recipe]] = resourcesOf(built.tpl, 'AWS::ImageBuilder::ImageRecipe');
    return { component: component!.Version as string, recipe: recipe!.Version as string, names: [component!.Name, recipe!.Name] };
  };

  it('gives component and recipe semantic versions derived from their content', () => {
    const { component, recipe } = versions({ app, image, stack, tpl });
    for (const version of [component, recipe]) {
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
      for (const node of version.split('.')) expect(Number(node)).toBeLessThanOrEqual(2 ** 30 - 1);
    }
    expect(versions(build())).toEqual(versions({ app, image, stack, tpl }));
  });

  it('moves both versions, keeping the names, when the component changes', () => {
    const before = versions({ app, image, stack, tpl });
    const after = versions(build({ stopTimeout: Duration.seconds(90) }));
    expect(after.component).not.toBe(before.component);
    expect(after.recipe).not.toBe(before.recipe);
    expect(after.names).toEqual(before.names);
  });

  it('moves the recipe version alone when only the recipe changes (its parent image)', () => {
    const before = versions({ app, image, stack, tpl });
    const after = versions(build({ parentImage: 'arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-arm64/2025.1.1' }));
    expect(after.component).toBe(before.component);
    expect(after.recipe).not.toBe(before.recipe);
  });

  it('moves the versions when tags change (a tag change replaces Image Builder resources too)', () => {
    const tagged = (() => {
      const app2 = newApp();
      const stack2 = regionalStack(app2);
      const image2 = new OriginImage(stack2, 'Image', { vpc: importedVpc(stack2), entry: FIXTURE_ENTRY });
      Tags.of(stack2).add('cost-center', 'video');
      return { app: app2, stack: stack2, image: image2, tpl: template(stack2) };
    })();
    const before = versions({ app, image, stack, tpl });
    expect(versions(tagged).component).not.toBe(before.component);
    expect(versions(tagged).recipe).not.toBe(before.recipe);
  });

  it('installs the CloudWatch agent with the AWS-managed component, before the runtime', () => {
    const [[, recipe]] = resourcesOf(tpl, 'AWS::ImageBuilder::ImageRecipe') as [[string, { Components: { ComponentArn: unknown }[] }]];
    expect(JSON.stringify(recipe.Components[0]!.ComponentArn)).toContain(':aws:component/amazon-cloudwatch-agent-linux/x.x.x');
    expect(recipe.Components[1]!.ComponentArn).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(image.component), 'Arn'] });
  });

  it('keeps superseded images for the lifecycle policy, which keeps the newest three AMIs', () => {
    const [[imageId, imageProps]] = resourcesOf(tpl, 'AWS::ImageBuilder::Image');
    expect(tpl.toJSON().Resources[imageId].DeletionPolicy).toBe('Retain');
    expect(tpl.toJSON().Resources[imageId].UpdateReplacePolicy).toBe('Retain');
    const tags = imageProps!.Tags as Record<string, string>;
    tpl.hasResourceProperties('AWS::ImageBuilder::LifecyclePolicy', {
      ResourceType: 'AMI_IMAGE',
      Status: 'ENABLED',
      ResourceSelection: { TagMap: { 'live-origin:image': tags['live-origin:image'] } },
      PolicyDetails: [
        {
          Action: { Type: 'DELETE', IncludeResources: { Amis: true, Snapshots: true } },
          Filter: { Type: 'COUNT', Value: 3 },
          ExclusionRules: { Amis: { LastLaunched: { Unit: 'DAYS', Value: 7 } } },
        },
      ],
      ExecutionRole: { 'Fn::GetAtt': [stack.getLogicalId(image.lifecycleRole.node.defaultChild as never), 'Arn'] },
    });
    tpl.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'imagebuilder.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [{ 'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy'])] }],
    });
  });

  it('installs log rotation for the runtime log', () => {
    expect(componentData()).toContain('/etc/logrotate.d/live-origin');
    expect(componentData()).toContain('systemctl enable logrotate.timer');
  });

  it('bakes the instance programs as written in lib/instance, and their timers', () => {
    const text = componentDocument({ bundleS3Uri: 's3://cdk-assets-bucket/0123456789abcdef.zip', unit: image.unit });
    const document = JSON.parse(text) as {
      phases: { steps: { name: string; inputs: { path: string; content: string }[] }[] }[];
    };
    const files = document.phases[0]!.steps.find((step) => step.name === 'InstallUnitsAndPrograms')!.inputs;
    for (const name of INSTANCE_PROGRAMS) {
      expect(files.find((file) => file.path === `/opt/live-origin/bin/${name}`)?.content, name).toBe(instanceProgram(name));
    }
    for (const timer of TIMERS) expect(files.map((file) => file.path)).toContain(`/etc/systemd/system/${timer}`);
    // CloudFormation's limit on a component's data.
    expect(text.length).toBeLessThan(16_000);
  });

  it('moves the recipe version alone when the patch epoch changes', () => {
    const before = versions({ app, image, stack, tpl });
    const after = versions(build({ patchEpoch: '2026-06' }));
    expect(after.component).toBe(before.component);
    expect(after.recipe).not.toBe(before.recipe);
  });

  it('gives the bundle the same hash and the same bytes whatever the synth output directory', () => {
    const synths = ['one', 'two/deeper'].map((name) => {
      const outdir = join(tmpdir(), `live-origin-outdir-${process.pid}`, name);
      const other = new App({ context: cdkJsonContext(), outdir });
      const otherStack = regionalStack(other);
      const built = new OriginImage(otherStack, 'Image', { vpc: importedVpc(otherStack), entry: FIXTURE_ENTRY });
      other.synth();
      const assetDir = join(outdir, `asset.${built.bundle.assetHash}`);
      return { hash: built.bundle.assetHash, bundle: readFileSync(join(assetDir, 'server.mjs')), map: readFileSync(join(assetDir, 'server.mjs.map'), 'utf8') };
    });
    rmSync(join(tmpdir(), `live-origin-outdir-${process.pid}`), { recursive: true, force: true });
    expect(synths[0]!.hash).toBe(synths[1]!.hash);
    expect(synths[0]!.hash).toBe(image.bundle.assetHash);
    expect(synths[0]!.bundle.equals(synths[1]!.bundle)).toBe(true);
    expect(synths[0]!.map).toBe(synths[1]!.map);
    expect(JSON.parse(synths[0]!.map).sources).toContain('test/lib/fixtures/server.ts');
  });

  it('refuses an x86 build instance', () => {
    expect(() => build({ buildInstanceType: 'c7i.large' })).toThrow(/arm64/);
  });

  it('refuses a missing entry', () => {
    expect(() => build({ entry: '/nonexistent/server.ts' })).toThrow(/does not exist/);
  });
});

describe('timer units', () => {
  it('run each instance program from the instance environment, on a repeating timer', () => {
    const units = timerUnits();
    for (const timer of TIMERS) {
      const service = units[timer.replace(/\.timer$/, '.service')]!;
      expect(service).toContain('EnvironmentFile=/etc/live-origin/instance.env');
      expect(service).toMatch(/^ExecStart=\/opt\/live-origin\/bin\/[a-z-]+\.sh$/m);
      expect(units[timer]).toMatch(/^OnUnitActiveSec=\d+$/m);
    }
  });

  it('name programs that are valid bash', () => {
    for (const name of INSTANCE_PROGRAMS.filter((program) => program.endsWith('.sh'))) {
      const check = spawnSync('bash', ['-n'], { input: instanceProgram(name), encoding: 'utf8' });
      expect(check.status, `${name}: ${check.stderr}`).toBe(0);
    }
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

  it('appends stdout and stderr to the file the CloudWatch agent ships', () => {
    expect(unit).toContain(`StandardOutput=append:${RUNTIME_LOG_FILE}`);
    expect(unit).toContain('StandardError=inherit');
  });
});

describe('LOGROTATE_CONFIG', () => {
  it('rotates the runtime log in place (systemd keeps it open), bounded in size and count', () => {
    expect(LOGROTATE_CONFIG.startsWith(`${RUNTIME_LOG_FILE} {`)).toBe(true);
    expect(LOGROTATE_CONFIG).toContain('copytruncate');
    expect(LOGROTATE_CONFIG).toMatch(/maxsize \d+M/);
    expect(LOGROTATE_CONFIG).toMatch(/rotate \d+/);
  });
});

describe('contentVersion', () => {
  it('is the same for equal inputs, whatever the key order, and differs otherwise', () => {
    expect(contentVersion({ a: 1, b: [1, 2] })).toBe(contentVersion({ b: [1, 2], a: 1 }));
    expect(contentVersion({ a: 1, b: [1, 2] })).not.toBe(contentVersion({ a: 1, b: [2, 1] }));
    expect(contentVersion({ volumeSize: 8 })).not.toBe(contentVersion({ volumeSize: 16 }));
  });
});

describe('componentDocument', () => {
  it('declares AWSTOE schema version 1.0', () => {
    expect(componentDocument({ bundleS3Uri: 's3://b/k.zip', unit: 'x' })).toContain('"schemaVersion": 1.0,');
  });
});
