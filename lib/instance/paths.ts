/**
 * Where things live on an origin instance, and what its programs are called: the image bakes
 * them, the boot script and the systemd units use them, the tests run them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the image keeps the bundle. */
export const INSTALL_DIR = '/opt/live-origin';
/** Where the image keeps the instance programs of this directory. */
export const BIN_DIR = `${INSTALL_DIR}/bin`;
/** The runtime's environment file: written at boot, read by the unit. */
export const ENV_FILE = '/etc/live-origin/env';
/** Settings of the instance's timers (region, secret, health URL): written at boot. */
export const INSTANCE_ENV_FILE = '/etc/live-origin/instance.env';
/** Tokens and CDN secrets: refreshed by a timer, re-read by the runtime. */
export const CREDENTIALS_FILE = '/etc/live-origin/credentials.json';
/** Consecutive liveness failures so far (tmpfs: a reboot starts afresh). */
export const LIVENESS_STATE_FILE = '/run/live-origin/liveness-failures';
/** The systemd unit that runs the origin. */
export const SERVICE_NAME = 'live-origin.service';
/** The unprivileged account (and group) the origin runs as. */
export const SERVICE_USER = 'live-origin';
/**
 * The runtime's log (pino JSON lines on stdout and stderr). A file rather than journald: the
 * CloudWatch agent reads files, not the journal; logrotate keeps it bounded.
 */
export const RUNTIME_LOG_FILE = '/var/log/live-origin/origin.log';
/** The port the runtime listens on (its own default). */
export const ORIGIN_PORT = 8080;
/**
 * The relay other instances read PUTs from while they arrive: worker i of an instance listens on
 * RELAY_PORT + i, on the instance's private address (never behind the load balancer).
 */
export const RELAY_PORT = 8081;
/** The relay ports the instances' security group opens to each other: one per worker, up to this many workers. */
export const MAX_RELAY_WORKERS = 128;
/** Readiness: 503 while draining or when the store is down. The load balancer's health check. */
export const READINESS_PATH = '/readyz';
/** Liveness: the process answers. What decides whether an instance is replaced. */
export const LIVENESS_PATH = '/healthz';
/** Where the CloudWatch agent's configuration is written at boot. */
export const CLOUDWATCH_AGENT_CONFIG = '/opt/aws/amazon-cloudwatch-agent/etc/live-origin.json';
export const CLOUDWATCH_AGENT_CTL = '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl';
/** The instance metadata service (IMDSv2). */
export const METADATA_URL = 'http://169.254.169.254/latest';

/** The programs of this directory the image installs in BIN_DIR, by file name. */
export const INSTANCE_PROGRAMS = ['credentials.mjs', 'refresh-credentials.sh', 'liveness-check.sh'] as const;
export type InstanceProgram = (typeof INSTANCE_PROGRAMS)[number] | 'boot.sh';

/** The source of one instance program (a real file beside this module, run as written). */
export function instanceProgram(name: InstanceProgram): string {
  return readFileSync(instanceProgramPath(name), 'utf8');
}

/** The path of one instance program in this repository (tests run them from here). */
export function instanceProgramPath(name: InstanceProgram): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}
