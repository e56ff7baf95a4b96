/**
 * The user data of an origin instance: shell variable assignments (values CloudFormation
 * resolves: region, stack, buckets, target groups) above boot.sh, the real program in this
 * directory. Tests run the same text with stand-ins for the AWS commands.
 */
import {
  BIN_DIR,
  CLOUDWATCH_AGENT_CONFIG,
  CLOUDWATCH_AGENT_CTL,
  CREDENTIALS_FILE,
  ENV_FILE,
  INSTANCE_ENV_FILE,
  instanceProgram,
  LIVENESS_PATH,
  LIVENESS_STATE_FILE,
  METADATA_URL,
  ORIGIN_PORT,
  READINESS_PATH,
  RELAY_PORT,
  RUNTIME_LOG_FILE,
  SERVICE_NAME,
  SERVICE_USER,
} from './paths.js';
import { LIVENESS_FAILURES_TO_REPLACE, TIMERS } from './units.js';

/** Seconds between readiness and target-health polls at boot. */
const POLL_SECONDS = 5;
/** Local readiness polls before boot gives up: 5 minutes. */
const READY_ATTEMPTS = 60;
/** Target-health polls per target group: 10 minutes (two health checks take 20 s; registration may lag). */
const TARGET_ATTEMPTS = 120;

/** What the boot script needs to know; values may be CloudFormation tokens. */
export interface BootScriptOptions {
  readonly region: string;
  readonly bucketName: string;
  readonly tablePrefix: string;
  /** `region=bucket,...` of the other regions. */
  readonly peerBuckets: string;
  readonly secretName: string;
  readonly hotCacheMemoryFraction: number;
  /** Where the readiness signal goes (the Auto Scaling group's creation and update policies). */
  readonly stackName: string;
  readonly signalResource: string;
  /** The log group the CloudWatch agent ships the runtime's log to. */
  readonly logGroupName: string;
  /** Every target group the instance must be healthy in before it signals success. */
  readonly targetGroupArns: readonly string[];
  /**
   * Paths and commands, for tests that run the script on this machine.
   * @default the instance's (paths.ts)
   */
  readonly overrides?: Partial<Record<BootVariable, string>>;
}

/** The variables boot.sh reads. */
export type BootVariable =
  | 'REGION'
  | 'STACK_NAME'
  | 'SIGNAL_RESOURCE'
  | 'SECRET_NAME'
  | 'BUCKET'
  | 'TABLE_PREFIX'
  | 'PEER_BUCKETS'
  | 'MEMORY_FRACTION'
  | 'TARGET_GROUPS'
  | 'PORT'
  | 'RELAY_PORT'
  | 'READINESS_PATH'
  | 'LIVENESS_PATH'
  | 'LIVENESS_STATE'
  | 'LIVENESS_FAILURES'
  | 'METADATA_URL'
  | 'ENV_FILE'
  | 'INSTANCE_ENV_FILE'
  | 'CREDENTIALS_FILE'
  | 'SERVICE_GROUP'
  | 'BIN_DIR'
  | 'AGENT_CONFIG'
  | 'AGENT_CONFIG_JSON'
  | 'AGENT_CTL'
  | 'SERVICE_NAME'
  | 'TIMERS'
  | 'READY_ATTEMPTS'
  | 'TARGET_ATTEMPTS'
  | 'POLL_SECONDS';

/**
 * The CloudWatch agent's configuration: ship the runtime's log file (pino JSON lines, one
 * stream per instance) to `logGroupName`. Retention is the log group's, set by CDK.
 */
export function cloudWatchAgentConfig(logGroupName: string): string {
  return JSON.stringify({
    agent: { run_as_user: 'root' },
    logs: {
      logs_collected: {
        files: {
          collect_list: [{ file_path: RUNTIME_LOG_FILE, log_group_name: logGroupName, log_stream_name: '{instance_id}' }],
        },
      },
    },
  });
}

/** A shell single-quoted word (tokens resolve to plain names, ARNs and JSON without quotes of their own). */
function quoted(value: string | number): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** The variable assignments, one per line, in a fixed order. */
export function bootVariables(options: BootScriptOptions): Record<BootVariable, string> {
  return {
    REGION: options.region,
    STACK_NAME: options.stackName,
    SIGNAL_RESOURCE: options.signalResource,
    SECRET_NAME: options.secretName,
    BUCKET: options.bucketName,
    TABLE_PREFIX: options.tablePrefix,
    PEER_BUCKETS: options.peerBuckets,
    MEMORY_FRACTION: String(options.hotCacheMemoryFraction),
    TARGET_GROUPS: options.targetGroupArns.join(' '),
    PORT: String(ORIGIN_PORT),
    RELAY_PORT: String(RELAY_PORT),
    READINESS_PATH,
    LIVENESS_PATH,
    LIVENESS_STATE: LIVENESS_STATE_FILE,
    LIVENESS_FAILURES: String(LIVENESS_FAILURES_TO_REPLACE),
    METADATA_URL,
    ENV_FILE,
    INSTANCE_ENV_FILE,
    CREDENTIALS_FILE,
    SERVICE_GROUP: SERVICE_USER,
    BIN_DIR,
    AGENT_CONFIG: CLOUDWATCH_AGENT_CONFIG,
    AGENT_CONFIG_JSON: cloudWatchAgentConfig(options.logGroupName),
    AGENT_CTL: CLOUDWATCH_AGENT_CTL,
    SERVICE_NAME,
    TIMERS: TIMERS.join(' '),
    READY_ATTEMPTS: String(READY_ATTEMPTS),
    TARGET_ATTEMPTS: String(TARGET_ATTEMPTS),
    POLL_SECONDS: String(POLL_SECONDS),
    ...options.overrides,
  };
}

/** The whole user data (for `UserData.custom`): `#!/bin/bash`, the assignments, then boot.sh. */
export function bootScript(options: BootScriptOptions): string {
  const assignments = Object.entries(bootVariables(options)).map(([name, value]) => `${name}=${quoted(value)}`);
  return ['#!/bin/bash', ...assignments, instanceProgram('boot.sh')].join('\n');
}
