/**
 * The systemd units and the logrotate rules the image installs: the runtime itself, and the two
 * timers that keep an instance's credentials fresh and report a hung runtime.
 */
import type { Duration } from 'aws-cdk-lib';
import { RUNTIME_BUNDLE_FILE } from '../runtime-bundle.js';
import { BIN_DIR, ENV_FILE, INSTALL_DIR, INSTANCE_ENV_FILE, RUNTIME_LOG_FILE, SERVICE_USER } from './paths.js';

/** How often an instance fetches the runtime secret again: a revoked token dies within this plus the runtime's re-read. */
export const CREDENTIALS_REFRESH_SECONDS = 60;
/** How often liveness is checked. */
export const LIVENESS_INTERVAL_SECONDS = 20;
/** Failed liveness checks in a row before the instance asks to be replaced: 3 minutes at the interval above. */
export const LIVENESS_FAILURES_TO_REPLACE = 9;

/** The timers user data enables, by unit name. */
export const TIMERS = ['live-origin-credentials.timer', 'live-origin-liveness.timer'] as const;

export interface SystemdUnitOptions {
  /**
   * How long systemd waits after SIGTERM before SIGKILL: the runtime drains in this time
   * (readiness goes 503, held requests are answered).
   */
  readonly stopTimeout: Duration;
}

/** The runtime's unit: `node server.mjs` with the boot-time environment, restarted whenever it exits. */
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

/** A oneshot service running one instance program with the instance environment, and its timer. */
function timedProgram(name: string, description: string, program: string, everySeconds: number): Record<string, string> {
  return {
    [`${name}.service`]: [
      '[Unit]',
      `Description=${description}`,
      `ConditionPathExists=${INSTANCE_ENV_FILE}`,
      '',
      '[Service]',
      'Type=oneshot',
      `EnvironmentFile=${INSTANCE_ENV_FILE}`,
      `ExecStart=${BIN_DIR}/${program}`,
      '',
    ].join('\n'),
    [`${name}.timer`]: [
      '[Unit]',
      `Description=${description} (every ${everySeconds} s)`,
      '',
      '[Timer]',
      `OnActiveSec=${everySeconds}`,
      `OnUnitActiveSec=${everySeconds}`,
      'AccuracySec=1s',
      '',
      '[Install]',
      'WantedBy=timers.target',
      '',
    ].join('\n'),
  };
}

/** The timers' units, by file name (installed in /etc/systemd/system). */
export function timerUnits(): Record<string, string> {
  return {
    ...timedProgram('live-origin-credentials', 'Live Origin: refresh tokens and CDN secrets', 'refresh-credentials.sh', CREDENTIALS_REFRESH_SECONDS),
    ...timedProgram(
      'live-origin-liveness',
      'Live Origin: replace this instance if the runtime stops answering',
      'liveness-check.sh',
      LIVENESS_INTERVAL_SECONDS,
    ),
  };
}

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
