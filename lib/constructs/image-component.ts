/**
 * The Image Builder (AWSTOE) component that turns Amazon Linux 2023 into an origin host: Node.js,
 * the runtime bundle, its unit and log rotation, and the instance programs of lib/instance/ with
 * their timers. JSON is valid YAML, and `JSON.stringify` keeps CDK tokens (the asset bucket) intact.
 */
import { dirname } from 'node:path';
import { BIN_DIR, ENV_FILE, INSTALL_DIR, INSTANCE_PROGRAMS, instanceProgram, RUNTIME_LOG_FILE, SERVICE_NAME, SERVICE_USER } from '../instance/paths.js';
import { LOGROTATE_CONFIG, timerUnits } from '../instance/units.js';
import { RUNTIME_BUNDLE_FILE, RUNTIME_NODE_MAJOR } from '../runtime-bundle.js';

export interface ComponentDocumentOptions {
  /** `s3://bucket/key` of the zipped bundle. */
  readonly bundleS3Uri: string;
  /** The runtime's unit file. */
  readonly unit: string;
}

const BUNDLE_ZIP = '/tmp/live-origin-bundle.zip';
const SYSTEMD_DIR = '/etc/systemd/system';

export function componentDocument(options: ComponentDocumentOptions): string {
  const node = `/usr/bin/node-${RUNTIME_NODE_MAJOR}`;
  const programs = INSTANCE_PROGRAMS.map((name) => ({
    path: `${BIN_DIR}/${name}`,
    content: instanceProgram(name),
    permissions: name.endsWith('.sh') ? '0755' : '0644',
    overwrite: true,
  }));
  const timers = Object.entries(timerUnits()).map(([name, content]) => ({ path: `${SYSTEMD_DIR}/${name}`, content, permissions: '0644', overwrite: true }));
  const document = {
    name: 'live-origin-runtime',
    description: `Node.js ${RUNTIME_NODE_MAJOR}, the Live Origin bundle, its systemd unit and the instance programs`,
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
                // Security updates of the release the parent image is on: a new patch epoch
                // (context `patchEpoch`) builds a new image, which runs this again.
                'dnf upgrade -y',
                `dnf install -y nodejs${RUNTIME_NODE_MAJOR} unzip awscli-2 aws-cfn-bootstrap logrotate`,
                // The unversioned `node` is an alternatives link; pin it to the bundle's target.
                `alternatives --set node ${node}`,
                `id -u ${SERVICE_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin ${SERVICE_USER}`,
                `install -d -m 0755 ${dirname(RUNTIME_LOG_FILE)} ${BIN_DIR}`,
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
            name: 'InstallUnitsAndPrograms',
            action: 'CreateFile',
            inputs: [
              { path: `${SYSTEMD_DIR}/${SERVICE_NAME}`, content: options.unit, permissions: '0644', overwrite: true },
              { path: '/etc/logrotate.d/live-origin', content: LOGROTATE_CONFIG, permissions: '0644', overwrite: true },
              ...timers,
              ...programs,
            ],
          },
          {
            // The unit and the timers are enabled at boot by user data, once their environment files exist.
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
                ...Object.keys(timerUnits()).map((name) => `systemctl cat ${name} > /dev/null`),
                ...INSTANCE_PROGRAMS.map((name) => `test -s ${BIN_DIR}/${name}`),
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
            inputs: { commands: [`node --check ${INSTALL_DIR}/${RUNTIME_BUNDLE_FILE}`, `node --check ${BIN_DIR}/credentials.mjs`] },
          },
        ],
      },
    ],
  };
  // AWSTOE documents declare `schemaVersion: 1.0`; JSON.stringify would shorten it to `1`.
  return JSON.stringify(document, undefined, 2).replace('"schemaVersion": 1,', '"schemaVersion": 1.0,');
}
