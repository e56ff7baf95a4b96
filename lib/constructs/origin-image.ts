import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AssetHashType, Aws, BundlingOutput, DockerImage, Duration, Lazy, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { bundleRuntime, DEFAULT_RUNTIME_ENTRY, RUNTIME_BUNDLE_FILE, RUNTIME_NODE_MAJOR } from '../../scripts/bundle-runtime.js';
import { isGravitonInstanceType } from '../aws-names.js';
import { withDefaults } from '../defaults.js';

/** Where the AMI keeps the bundle. */
export const INSTALL_DIR = '/opt/live-origin';
/** The environment file that user data writes at boot and the unit reads. */
export const ENV_FILE = '/etc/live-origin/env';
/** The systemd unit that runs the origin. */
export const SERVICE_NAME = 'live-origin.service';
/** The unprivileged account the origin runs as. */
export const SERVICE_USER = 'live-origin';
/**
 * The runtime's log (pino JSON lines on stdout and stderr). A file rather than journald: the
 * CloudWatch agent reads files, not the journal; logrotate keeps it bounded.
 */
export const RUNTIME_LOG_FILE = '/var/log/live-origin/origin.log';
/** Image Builder's AWS-managed component that installs the CloudWatch agent. */
export const CLOUDWATCH_AGENT_COMPONENT = 'amazon-cloudwatch-agent-linux';

/**
 * logrotate rules for the runtime's log. `copytruncate` because systemd holds the file open for
 * the process (O_APPEND, so writes land at the new end after the truncate); the CloudWatch agent
 * notices the truncation and reads on from the start.
 */
export const LOGROTATE_CONFIG = [
  `${RUNTIME_LOG_FILE} {`,
  '  daily',
  '  maxsize 200M',
  '  rotate 3',
  '  missingok',
  '  notifempty',
  '  compress',
  '  delaycompress',
  '  copytruncate',
  '}',
  '',
].join('\n');

export interface SystemdUnitOptions {
  /**
   * How long systemd waits after SIGTERM before SIGKILL: the runtime drains in this time
   * (readiness goes 503, held requests are answered).
   */
  readonly stopTimeout: Duration;
}

/** The unit file: `node server.mjs` with the boot-time environment, restarted whenever it exits. */
export function systemdUnit(options: SystemdUnitOptions): string {
  return [
    '[Unit]',
    'Description=Live Origin (live video origin server)',
    'Wants=network-online.target',
    'After=network-online.target',
    `ConditionPathExists=${ENV_FILE}`,
    '',
    '[Service]',
    'Type=simple',
    `User=${SERVICE_USER}`,
    `Group=${SERVICE_USER}`,
    `EnvironmentFile=${ENV_FILE}`,
    'Environment=NODE_ENV=production NODE_OPTIONS=--enable-source-maps',
    `ExecStart=/usr/bin/node ${INSTALL_DIR}/${RUNTIME_BUNDLE_FILE}`,
    // systemd opens the file (as root) before dropping to the service user.
    `StandardOutput=append:${RUNTIME_LOG_FILE}`,
    'StandardError=inherit',
    'Restart=always',
    'RestartSec=2',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${options.stopTimeout.toSeconds()}`,
    'LimitNOFILE=1048576',
    'NoNewPrivileges=true',
    'ProtectSystem=full',
    'ProtectHome=true',
    'PrivateTmp=true',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export interface ComponentDocumentOptions {
  /** `s3://bucket/key` of the zipped bundle. */
  readonly bundleS3Uri: string;
  /** The unit file's content. */
  readonly unit: string;
}

const BUNDLE_ZIP = '/tmp/live-origin-bundle.zip';

/**
 * The Image Builder (AWSTOE) component: install Node.js and the bundle, install the unit. JSON
 * is valid YAML, and `JSON.stringify` keeps the CDK tokens (the asset bucket) intact.
 */
export function componentDocument(options: ComponentDocumentOptions): string {
  const node = `/usr/bin/node-${RUNTIME_NODE_MAJOR}`;
  const unitPath = `/etc/systemd/system/${SERVICE_NAME}`;
  const document = {
    name: 'live-origin-runtime',
    description: `Node.js ${RUNTIME_NODE_MAJOR}, the Live Origin bundle and its systemd unit`,
    schemaVersion: 1,
    phases: [
      {
        name: 'build',
        steps: [
          {
            name: 'InstallPackages',
            action: 'ExecuteBash',
            inputs: {
              commands: [
                'set -euo pipefail',
                `dnf install -y nodejs${RUNTIME_NODE_MAJOR} unzip awscli-2 aws-cfn-bootstrap logrotate`,
                // The unversioned `node` is an alternatives link; pin it to the bundle's target.
                `alternatives --set node ${node}`,
                `id -u ${SERVICE_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin ${SERVICE_USER}`,
                `install -d -m 0755 ${dirname(RUNTIME_LOG_FILE)}`,
                'systemctl enable logrotate.timer',
              ],
            },
          },
          {
            name: 'DownloadBundle',
            action: 'S3Download',
            inputs: [{ source: options.bundleS3Uri, destination: BUNDLE_ZIP }],
          },
          {
            name: 'InstallBundle',
            action: 'ExecuteBash',
            inputs: {
              commands: [
                'set -euo pipefail',
                `install -d -m 0755 ${INSTALL_DIR} ${dirname(ENV_FILE)}`,
                `unzip -o ${BUNDLE_ZIP} -d ${INSTALL_DIR}`,
                `chown -R root:root ${INSTALL_DIR}`,
                `chmod -R u=rwX,go=rX ${INSTALL_DIR}`,
                `rm -f ${BUNDLE_ZIP}`,
              ],
            },
          },
          {
            name: 'InstallUnit',
            action: 'CreateFile',
            inputs: [
              { path: unitPath, content: options.unit, permissions: '0644', overwrite: true },
              { path: '/etc/logrotate.d/live-origin', content: LOGROTATE_CONFIG, permissions: '0644', overwrite: true },
            ],
          },
          {
            // Enabled at boot by user data, once the environment file exists.
            name: 'ReloadSystemd',
            action: 'ExecuteBash',
            inputs: { commands: ['systemctl daemon-reload'] },
          },
        ],
      },
      {
        name: 'validate',
        steps: [
          {
            name: 'CheckInstall',
            action: 'ExecuteBash',
            inputs: {
              commands: [
                'set -euo pipefail',
                `node --version | grep -q '^v${RUNTIME_NODE_MAJOR}\\.'`,
                `test -s ${INSTALL_DIR}/${RUNTIME_BUNDLE_FILE}`,
                `systemctl cat ${SERVICE_NAME} > /dev/null`,
                'logrotate --debug /etc/logrotate.d/live-origin',
                'test -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl',
              ],
            },
          },
        ],
      },
      {
        name: 'test',
        steps: [
          {
            name: 'ParseBundle',
            action: 'ExecuteBash',
            inputs: { commands: [`node --check ${INSTALL_DIR}/${RUNTIME_BUNDLE_FILE}`] },
          },
        ],
      },
    ],
  };
  // AWSTOE documents declare `schemaVersion: 1.0`; JSON.stringify would shorten it to `1`.
  return JSON.stringify(document, undefined, 2).replace('"schemaVersion": 1,', '"schemaVersion": 1.0,');
}

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
      stopTimeout: Duration.seconds(60),
      keepImages: 3,
      keepLaunchedWithin: Duration.days(7),
    },
    props,
  );
}

/** The largest value Image Builder accepts in one node of a semantic version (2^30 - 1). */
const MAX_VERSION_NODE = 2 ** 30 - 1;

/**
 * A semantic version that changes whenever anything in `inputs` does: Image Builder refuses a
 * second resource with the same name and version, and CloudFormation replaces a component or
 * recipe on any change, so every input must move the version. Two 28-bit slices of a SHA-256
 * (each below Image Builder's 2^30 - 1 limit per node) make an accidental repeat negligible.
 */
export function contentVersion(...inputs: readonly unknown[]): string {
  const hash = createHash('sha256').update(canonicalJson(inputs)).digest('hex');
  const node = (from: number): number => parseInt(hash.slice(from, from + 7), 16) & MAX_VERSION_NODE;
  return `1.${node(0)}.${node(7)}`;
}

/** JSON with object keys sorted, so that equal inputs hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
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
      assetHashType: AssetHashType.OUTPUT,
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
        produce: () => contentVersion(stack.resolve(recipeProps), stack.resolve(this.component.version), stack.resolve(this.recipe.tags.renderTags())),
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
    for (const policy of ['EC2InstanceProfileForImageBuilder', 'AmazonSSMManagedInstanceCore']) {
      Validations.of(this.buildRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`,
        reason:
          'Image Builder drives its build instance through SSM and documents these two AWS managed policies as the ' +
          'instance profile it needs; the role exists only on short-lived build instances.',
      });
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
    Validations.of(this.lifecycleRole).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${LIFECYCLE_MANAGED_POLICY}]`,
      reason:
        'Image Builder documents this AWS managed policy as the execution role of lifecycle policies; it can only act on ' +
        'Image Builder resources tagged for lifecycle management, and AWS keeps its action list in step with the service.',
    });
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
