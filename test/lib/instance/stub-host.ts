/**
 * A stand-in host for the instance programs: a directory of stub commands (aws, curl, cfn-signal,
 * systemctl, nproc, sleep, the CloudWatch agent) that log each call and answer as AWS and the
 * instance would, so boot.sh and the timers' programs run here as written. Only the AWS side
 * and systemd are stubs: bash, node, install, mktemp, mv and the programs themselves are real.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BootVariable } from '../../../lib/instance/boot-script.js';
import { instanceProgramPath } from '../../../lib/instance/paths.js';

export interface StubHost {
  readonly dir: string;
  readonly bin: string;
  /** Every stub call, one line each: `<command> <args...>`. */
  calls(): string[];
  /** Environment for running a program on this host (PATH first to the stubs). */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  path(name: string): string;
  remove(): void;
}

export interface StubBehaviour {
  /** What `aws secretsmanager get-secret-value` prints (the SecretString). */
  readonly secretJson: string;
  /** `describe-target-health` answers `initial` this many times per target group, then `healthy` (never, with Infinity). */
  readonly unhealthyChecks?: number;
  /** URLs (substring match) the curl stub fails, e.g. the health URL of a dead runtime. */
  readonly curlFails?: readonly string[];
}

const stub = (body: string) => `#!/bin/bash\necho "$(basename "$0") $*" >> "$STUB_LOG"\n${body}\n`;

export function stubHost(behaviour: StubBehaviour): StubHost {
  const dir = mkdtempSync(join(tmpdir(), 'live-origin-host-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(join(dir, 'secret.json'), behaviour.secretJson);
  const unhealthy = behaviour.unhealthyChecks ?? 1;
  const scripts: Record<string, string> = {
    aws: stub(`case "$1 $2" in
  "secretsmanager get-secret-value") cat "$STUB_DIR/secret.json" ;;
  "elbv2 describe-target-health")
    group=$(printf '%s' "$6" | tr -c 'A-Za-z0-9' _)
    count=$(( $(cat "$STUB_DIR/health.$group" 2>/dev/null || echo 0) + 1 ))
    echo "$count" > "$STUB_DIR/health.$group"
    if [ "$count" -gt ${Number.isFinite(unhealthy) ? unhealthy : 1_000_000} ]; then echo healthy; else echo initial; fi ;;
  "autoscaling set-instance-health") ;;
  *) echo "aws stub: unexpected $*" >&2; exit 2 ;;
esac`),
    curl: stub(`url="\${!#}"
for failing in ${(behaviour.curlFails ?? []).map((url) => `'${url}'`).join(' ')}; do
  case "$url" in *"$failing"*) exit 7 ;; esac
done
case "$url" in
  */api/token) echo token-123 ;;
  */meta-data/instance-id) echo i-0123456789abcdef0 ;;
  */meta-data/local-ipv4) echo 10.0.1.23 ;;
esac`),
    'cfn-signal': stub(''),
    systemctl: stub(''),
    'agent-ctl': stub(''),
    nproc: stub('echo 2'),
    sleep: stub(''),
  };
  for (const [name, text] of Object.entries(scripts)) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  return {
    dir,
    bin,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== ''),
    env: (extra = {}) => ({ PATH: `${bin}:${process.env.PATH}`, STUB_LOG: log, STUB_DIR: dir, ...extra }),
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** boot.sh's paths and commands moved onto `host`, the instance programs run from lib/instance. */
export function bootOverrides(host: StubHost): Partial<Record<BootVariable, string>> {
  return {
    ENV_FILE: host.path('etc/env'),
    INSTANCE_ENV_FILE: host.path('etc/instance.env'),
    CREDENTIALS_FILE: host.path('etc/credentials.json'),
    LIVENESS_STATE: host.path('run/liveness'),
    AGENT_CONFIG: host.path('agent.json'),
    AGENT_CTL: `${host.bin}/agent-ctl`,
    BIN_DIR: dirname(instanceProgramPath('boot.sh')),
    // This machine's group: chgrp to the instance's live-origin group would fail here.
    SERVICE_GROUP: spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim(),
  };
}
