import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AssetHashType, Aws, BundlingOutput, DockerImage, Duration, Lazy, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { isGravitonInstanceType } from '../aws-names.js';
import { contentVersion } from '../content-version.js';
import { withDefaults } from '../defaults.js';
import { systemdUnit } from '../instance/units.js';
import { acknowledge } from '../nag.js';
import { bundleRuntime, DEFAULT_RUNTIME_ENTRY, runtimeSourceHash } from '../runtime-bundle.js';
import { componentDocument } from './image-component.js';

/** Image Builder's AWS-managed component that installs the CloudWatch agent. */
export const CLOUDWATCH_AGENT_COMPONENT = 'amazon-cloudwatch-agent-linux';

export interface OriginImageProps {
  /** The network the build instance runs in (a private subnet with egress). */
  readonly vpc: ec2.IVpc;
  /**
   * TypeScript entry of the server, bundled with esbuild into `server.mjs`.
   * @default runtime/server.ts of this repository
   */
  readonly entry?: string;
  /**
   * Instance type of the build; must be arm64 like the parent image.
   * @default 'c7g.large'
   */
  readonly buildInstanceType?: string;
  /**
   * Image Builder parent image (arm64).
   * @default the AWS-managed Amazon Linux 2023 arm64 image, latest version
   */
  readonly parentImage?: string;
  /**
   * A label of the operating system patches wanted, for example `2026-06`: part of the recipe's
   * version, so changing it builds a new image from the newest parent image with `dnf upgrade`
   * applied, and rolls the fleet onto it. Nothing else rebakes for OS patches.
   * @default 'initial'
   */
  readonly patchEpoch?: string;
  /**
   * Time systemd gives the runtime to drain after SIGTERM.
   * @default Duration.seconds(60)
   */
  readonly stopTimeout?: Duration;
  /**
   * AMIs (with their snapshots) the lifecycle policy keeps; older ones are deleted, unless an
   * instance was launched from them within `keepLaunchedWithin`.
   * @default 3
   */
  readonly keepImages?: number;
  /**
   * An AMI launched from within this time is never deleted (an instance refresh may still roll back to it).
   * @default Duration.days(7)
   */
  readonly keepLaunchedWithin?: Duration;
}

type ResolvedProps = Required<OriginImageProps>;

/** AWS managed policy documented as the execution role of Image Builder lifecycle policies. */
const LIFECYCLE_MANAGED_POLICY = 'EC2ImageBuilderLifecycleExecutionPolicy';

/** Defaults merged under the caller's props. */
export function originImageDefaults(props: OriginImageProps): ResolvedProps {
  return withDefaults(
    {
      entry: DEFAULT_RUNTIME_ENTRY,
      buildInstanceType: 'c7g.large',
      parentImage: `arn:${Aws.PARTITION}:imagebuilder:${Aws.REGION}:aws:image/amazon-linux-2023-arm64/x.x.x`,
      patchEpoch: 'initial',
      stopTimeout: Duration.seconds(60),
      keepImages: 3,
      keepLaunchedWithin: Duration.days(7),
    },
    props,
  );
}

/** Hands the fleet an image id produced in the same stack (no Mapping, no lookup). */
class BakedMachineImage implements ec2.IMachineImage {
  constructor(private readonly imageId: string) {}

  getImage(): ec2.MachineImageConfig {
    return { imageId: this.imageId, osType: ec2.OperatingSystemType.LINUX, userData: ec2.UserData.forLinux() };
  }
}

/**
 * The origin's AMI: the runtime bundled by esbuild (locally, no Docker) as an S3 asset, baked by
 * EC2 Image Builder onto Amazon Linux 2023 arm64 with Node.js and a systemd unit.
 */
export class OriginImage extends Construct {
  /** The zipped bundle (`server.mjs` and its source map). */
  public readonly bundle: s3assets.Asset;
  public readonly component: imagebuilder.CfnComponent;
  public readonly recipe: imagebuilder.CfnImageRecipe;
  public readonly infrastructure: imagebuilder.CfnInfrastructureConfiguration;
  public readonly image: imagebuilder.CfnImage;
  /** Deletes all but the newest AMIs of this recipe. */
  public readonly lifecyclePolicy: imagebuilder.CfnLifecyclePolicy;
  /** Role Image Builder uses to apply the lifecycle policy. */
  public readonly lifecycleRole: iam.Role;
  /** Role of the build instance. */
  public readonly buildRole: iam.Role;
  /** Security group of the build instance (egress only). */
  public readonly buildSecurityGroup: ec2.SecurityGroup;
  /** The AMI id, resolved when the image is built. */
  public readonly imageId: string;
  /** The AMI as a machine image for launch templates. */
  public readonly machineImage: ec2.IMachineImage;
  /** The unit file baked into the image. */
  public readonly unit: string;

  constructor(scope: Construct, id: string, props: OriginImageProps) {
    super(scope, id);
    const resolved = originImageDefaults(props);
    validate(resolved);
    const entry = resolve(resolved.entry);

    this.bundle = new s3assets.Asset(this, 'Bundle', {
      path: dirname(entry),
      // The sources, the lockfile and the bundler: never where or when the synth ran.
      assetHashType: AssetHashType.CUSTOM,
      assetHash: runtimeSourceHash(entry),
      bundling: {
        // Never pulled: local bundling below always succeeds or throws.
        image: DockerImage.fromRegistry('live-origin-local-bundling-only'),
        outputType: BundlingOutput.NOT_ARCHIVED,
        local: {
          tryBundle(outputDir: string): boolean {
            bundleRuntime({ entry, outDir: outputDir });
            return true;
          },
        },
      },
    });

    this.unit = systemdUnit({ stopTimeout: resolved.stopTimeout });
    const stack = Stack.of(this);
    const baseName = Names.uniqueResourceName(this, { maxLength: 80, separator: '-' }).toLowerCase();

    // Image Builder resources are immutable per name and version. Names stay; versions derive
    // from every property as CloudFormation will see it (tokens resolved to their intrinsics,
    // the bundle's key carrying its content hash, tags as applied at synth), so any change gets
    // a new version and CloudFormation creates the replacement before deleting the old one.
    const componentProps = {
      name: `${baseName}-runtime`,
      platform: 'Linux',
      description: 'Installs Node.js, the Live Origin bundle, its systemd unit and log rotation',
      data: componentDocument({ bundleS3Uri: this.bundle.s3ObjectUrl, unit: this.unit }),
    };
    this.component = new imagebuilder.CfnComponent(this, 'Component', {
      ...componentProps,
      version: Lazy.string({ produce: () => contentVersion(stack.resolve(componentProps), stack.resolve(this.component.tags.renderTags())) }),
    });

    const recipeProps = {
      name: baseName,
      description: 'Amazon Linux 2023 arm64 with the CloudWatch agent and the Live Origin runtime',
      parentImage: resolved.parentImage,
      components: [
        {
          componentArn: `arn:${Aws.PARTITION}:imagebuilder:${Aws.REGION}:aws:component/${CLOUDWATCH_AGENT_COMPONENT}/x.x.x`,
        },
        { componentArn: this.component.attrArn },
      ],
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: { encrypted: true, volumeType: 'gp3', volumeSize: 8, deleteOnTermination: true },
        },
      ],
    };
    this.recipe = new imagebuilder.CfnImageRecipe(this, 'Recipe', {
      ...recipeProps,
      // The component's ARN resolves to the same GetAtt whatever its version: add the version.
      version: Lazy.string({
        produce: () =>
          contentVersion(stack.resolve(recipeProps), stack.resolve(this.component.version), stack.resolve(this.recipe.tags.renderTags()), {
            patchEpoch: resolved.patchEpoch,
          }),
      }),
    });

    this.buildRole = new iam.Role(this, 'BuildRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'EC2 Image Builder build instance of the Live Origin AMI',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('EC2InstanceProfileForImageBuilder'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
      ],
      inlinePolicies: {
        bundle: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['s3:GetObject'],
              resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)],
            }),
          ],
        }),
      },
    });
    for (const managedPolicy of ['EC2InstanceProfileForImageBuilder', 'AmazonSSMManagedInstanceCore']) {
      acknowledge(
        this.buildRole,
        { rule: 'IAM4', managedPolicy },
        'Image Builder drives its build instance through SSM and documents these two AWS managed policies as the ' +
          'instance profile it needs; the role exists only on short-lived build instances.',
      );
    }
    const profile = new iam.InstanceProfile(this, 'BuildInstanceProfile', { role: this.buildRole });

    this.buildSecurityGroup = new ec2.SecurityGroup(this, 'BuildSecurityGroup', {
      vpc: resolved.vpc,
      description: 'Live Origin image build instance: no inbound, outbound for packages and the bundle',
      allowAllOutbound: true,
    });

    this.infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, 'Infrastructure', {
      name: `${baseName}-build`,
      description: 'Where the Live Origin AMI is built',
      instanceProfileName: profile.instanceProfileName,
      instanceTypes: [resolved.buildInstanceType],
      subnetId: resolved.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds[0]!,
      securityGroupIds: [this.buildSecurityGroup.securityGroupId],
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
    });

    const imageTag = { key: 'live-origin:image', value: baseName };
    this.image = new imagebuilder.CfnImage(this, 'Image', {
      imageRecipeArn: this.recipe.attrArn,
      infrastructureConfigurationArn: this.infrastructure.attrArn,
      imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
      enhancedImageMetadataEnabled: true,
      tags: { [imageTag.key]: imageTag.value },
    });
    // Deleting an Image Builder image leaves its AMI behind, out of the lifecycle policy's
    // sight; kept, the superseded image stays until the policy deletes it with its AMI and
    // snapshots (and remains there to roll back to until then).
    this.image.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.lifecycleRole = new iam.Role(this, 'LifecycleRole', {
      assumedBy: new iam.ServicePrincipal('imagebuilder.amazonaws.com'),
      description: 'EC2 Image Builder lifecycle policy of the Live Origin AMIs',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(`service-role/${LIFECYCLE_MANAGED_POLICY}`)],
    });
    acknowledge(
      this.lifecycleRole,
      { rule: 'IAM4', managedPolicy: `service-role/${LIFECYCLE_MANAGED_POLICY}` },
      'Image Builder documents this AWS managed policy as the execution role of lifecycle policies; it can only act on ' +
        'Image Builder resources tagged for lifecycle management, and AWS keeps its action list in step with the service.',
    );
    this.lifecyclePolicy = new imagebuilder.CfnLifecyclePolicy(this, 'LifecyclePolicy', {
      name: `${baseName}-keep-${resolved.keepImages}`,
      description: `Keeps the newest ${resolved.keepImages} Live Origin AMIs; deletes older ones with their snapshots`,
      executionRole: this.lifecycleRole.roleArn,
      resourceType: 'AMI_IMAGE',
      status: 'ENABLED',
      resourceSelection: { tagMap: { [imageTag.key]: imageTag.value } },
      policyDetails: [
        {
          action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } },
          filter: { type: 'COUNT', value: resolved.keepImages },
          exclusionRules: {
            amis: { lastLaunched: { unit: 'DAYS', value: Math.ceil(resolved.keepLaunchedWithin.toDays({ integral: false })) } },
          },
        },
      ],
    });

    this.imageId = this.image.attrImageId;
    this.machineImage = new BakedMachineImage(this.imageId);
  }
}

function validate(props: ResolvedProps): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(props.patchEpoch)) {
    throw new Error(`OriginImage: patchEpoch "${props.patchEpoch}" must be 1 to 64 letters, digits, dots, dashes or underscores`);
  }
  if (!existsSync(props.entry)) {
    throw new Error(`OriginImage: the runtime entry ${props.entry} does not exist; build the runtime first or pass entry`);
  }
  if (!isGravitonInstanceType(props.buildInstanceType)) {
    throw new Error(`OriginImage: buildInstanceType "${props.buildInstanceType}" must be Graviton (arm64) like the parent image`);
  }
  if (!Number.isInteger(props.keepImages) || props.keepImages < 1 || props.keepImages > 1000) {
    throw new Error(`OriginImage: keepImages must be an integer from 1 to 1000, got ${props.keepImages}`);
  }
  const launchedDays = props.keepLaunchedWithin.toDays({ integral: false });
  if (!(launchedDays >= 1 && launchedDays <= 365)) {
    throw new Error(`OriginImage: keepLaunchedWithin must be between 1 and 365 days, got ${launchedDays}`);
  }
  const stopSeconds = props.stopTimeout.toSeconds({ integral: false });
  if (stopSeconds < 5 || stopSeconds > 900) {
    throw new Error(`OriginImage: stopTimeout must be between 5 s and 15 min, got ${stopSeconds} s`);
  }
}
