/**
 * The instance role of an origin fleet: exactly the calls the runtime's AWS adapters make
 * (docs/aws-mode.md), the instance programs' calls (secret refresh, target health at boot,
 * liveness), the CloudWatch agent's, and Session Manager's minimal set, nothing managed by AWS.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../runtime/aws-contract.js';
import { acknowledge } from '../nag.js';
import { tableNames } from '../naming.js';
import type { ResolvedFleetProps } from './origin-fleet-props.js';

/**
 * What the SSM agent needs to carry Session Manager shells, as AWS's own minimal Session Manager
 * instance profile grants it (no `ssm:GetParameter*` on every parameter, no document access: the
 * broad managed core policy covers Run Command, Patch Manager and Inventory, unused here).
 */
const SESSION_MANAGER_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
];

/** The role, created in `scope` (the fleet) so its logical id stays `...InstanceRole`. */
export function createInstanceRole(scope: Construct, props: ResolvedFleetProps, logGroup: logs.LogGroup): iam.Role {
  const stack = Stack.of(scope);
  const ownObjects = props.segmentBucket.arnForObjects('*');
  const peerBuckets = Object.values(props.peerBuckets).map((bucket) => `arn:${stack.partition}:s3:::${bucket}`);
  const tables = Object.values(tableNames(props.tablePrefix)).map((name) => stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: name }));
  const secret = stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    // Secrets Manager appends six random characters to every secret's ARN.
    resourceName: `${props.secretName}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });

  // Object reads and writes, HeadBucket (needs ListBucket, which also turns a missing key into
  // 404 rather than 403), item reads and single-item writes, and metrics.
  const statements = [
    new iam.PolicyStatement({
      sid: 'OwnSegmentObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [ownObjects],
    }),
    new iam.PolicyStatement({ sid: 'OwnSegmentBucket', actions: ['s3:ListBucket'], resources: [props.segmentBucket.bucketArn] }),
    new iam.PolicyStatement({
      sid: 'MetadataTables',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: tables,
    }),
    new iam.PolicyStatement({
      sid: 'RuntimeMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    }),
    // At boot and every minute after (refresh-credentials.sh).
    new iam.PolicyStatement({ sid: 'RuntimeSecret', actions: ['secretsmanager:GetSecretValue'], resources: [secret] }),
    // The CloudWatch agent: its own stream in the group CDK created (it creates no group).
    new iam.PolicyStatement({
      sid: 'RuntimeLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [logGroup.logGroupArn],
    }),
    // Boot signals CloudFormation only once every target group counts the instance healthy.
    new iam.PolicyStatement({ sid: 'BootTargetHealth', actions: ['elasticloadbalancing:DescribeTargetHealth'], resources: ['*'] }),
    new iam.PolicyStatement({ sid: 'SessionManagerRegistration', actions: ['ssm:UpdateInstanceInformation'], resources: [instances] }),
    new iam.PolicyStatement({ sid: 'SessionManagerChannels', actions: SESSION_MANAGER_ACTIONS, resources: ['*'] }),
  ];
  if (peerBuckets.length > 0) {
    // Peers: the copy after each ack (write), and the fallback read of a key whose copy from
    // that peer has not landed here yet (read; ListBucket makes a missing key a 404).
    statements.push(
      new iam.PolicyStatement({
        sid: 'PeerSegmentObjects',
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: peerBuckets.map((bucket) => `${bucket}/*`),
      }),
      new iam.PolicyStatement({ sid: 'PeerSegmentBuckets', actions: ['s3:ListBucket'], resources: peerBuckets }),
    );
  }

  const role = new iam.Role(scope, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: 'Live Origin instances: own bucket, peer buckets (write), tables, metrics, logs, runtime secret, SSM sessions',
    inlinePolicies: { origin: new iam.PolicyDocument({ statements }) },
  });
  for (const resource of [ownObjects, ...peerBuckets.map((bucket) => `${bucket}/*`)]) {
    acknowledge(
      role,
      { rule: 'IAM5', resource },
      'Segment objects are named by event and path at run time; the grant is limited to the objects of one ' +
        "named segment bucket (this region's, or a peer region's for the copy after each ack and the fallback read).",
    );
  }
  acknowledge(
    role,
    { rule: 'IAM5', resource: '*' },
    `cloudwatch:PutMetricData (limited to the ${METRIC_NAMESPACE} namespace by condition), elasticloadbalancing:DescribeTargetHealth ` +
      'and the ssmmessages channel actions of Session Manager have no resource-level permissions.',
  );
  acknowledge(
    role,
    { rule: 'IAM5', resource: instances },
    "ssm:UpdateInstanceInformation names the calling instance, whose id is not known before launch; the grant is this account's and region's instances.",
  );
  return role;
}

/**
 * Lets an instance mark itself unhealthy (liveness-check.sh), and only in its own group. A policy
 * beside the role, not in it: it names the group, which depends on the role through the launch
 * template.
 */
export function allowSelfReplacement(scope: Construct, role: iam.IRole, group: autoscaling.AutoScalingGroup): iam.Policy {
  const stack = Stack.of(scope);
  const groupArn = stack.formatArn({
    service: 'autoscaling',
    resource: 'autoScalingGroup',
    // The group's ARN carries a generated id before its name.
    resourceName: `*:autoScalingGroupName/${group.autoScalingGroupName}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const policy = new iam.Policy(scope, 'SelfReplacementPolicy', {
    roles: [role],
    statements: [new iam.PolicyStatement({ sid: 'LivenessSelfReplacement', actions: ['autoscaling:SetInstanceHealth'], resources: [groupArn] })],
  });
  acknowledge(
    policy,
    { rule: 'IAM5', resource: groupArn },
    "An Auto Scaling group's ARN holds a generated id that is not known in the template; the name after it limits the grant to this fleet's group.",
  );
  return policy;
}
