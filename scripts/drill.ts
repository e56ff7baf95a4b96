/**
 * Failover drill against the deployed stacks: makes Route 53 see a region as dark (by
 * inverting the region's endpoint health check; the fleet is untouched), waits until the
 * checkers report it and the failover name answers the other region, and prints how long each
 * took. `--restore` undoes it the same way.
 * The flags are in USAGE (`npm run drill -- --help`).
 *
 * The zone and name default to cdk.json's `hostedZoneId` and `domainName`. Credentials come
 * from the usual AWS SDK chain; the caller needs route53:ListHealthChecks, ListTagsForResources,
 * UpdateHealthCheck, GetHealthCheckStatus, ListResourceRecordSets and TestDNSAnswer.
 */

import { resolve4 } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRegionName } from '../lib/aws-names.js';
import { parseCommandLine, usageExit } from '../runtime/cli-args.js';
import { DRILL_DEFAULTS, type DrillAction, runDrill } from './drill/failover-drill.js';
import { createRoute53DrillClient } from './drill/route53-drill-client.js';

const USAGE = `usage: npm run drill -- (--fail <region> | --restore <region>) [--zone <hosted zone id>] [--name <domain>] [--timeout <s>] [--interval <s>]

Failover drill against the deployed stacks: --fail inverts the region's endpoint health check in
Route 53 (the fleet is untouched), waits until the checkers report it and the failover name answers
the other region, and prints how long each step took; --restore undoes it the same way.

  --fail <region>       make Route 53 see this region as dark
  --restore <region>    undo a --fail
  --zone <id>           hosted zone (default: cdk.json's hostedZoneId)
  --name <domain>       failover record name (default: cdk.json's domainName)
  --timeout <s>         give up after this many seconds (default ${DRILL_DEFAULTS.timeoutMs / 1000})
  --interval <s>        poll Route 53 and DNS this often (default ${DRILL_DEFAULTS.pollIntervalMs / 1000})

Credentials come from the usual AWS SDK chain.`;

function fail(message: string): never {
  return usageExit('drill', message);
}

function cdkContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

const values = parseCommandLine({
  name: 'drill',
  usage: USAGE,
  options: {
    fail: { type: 'string' },
    restore: { type: 'string' },
    zone: { type: 'string' },
    name: { type: 'string' },
    timeout: { type: 'string' },
    interval: { type: 'string' },
  },
});

if ((values.fail === undefined) === (values.restore === undefined)) fail('give exactly one of --fail and --restore');
const action: DrillAction = values.fail !== undefined ? 'fail' : 'restore';
const region = (values.fail ?? values.restore)!;
if (!isRegionName(region)) fail(`"${region}" is not a region name`);
const context = cdkContext();
const hostedZoneId = (values.zone ?? (context.hostedZoneId as string | undefined))?.replace(/^\/?hostedzone\//, '');
const recordName = (values.name ?? (context.domainName as string | undefined))?.replace(/\.$/, '');
if (!hostedZoneId || !recordName) fail('no hosted zone or name: pass --zone and --name, or set hostedZoneId and domainName in cdk.json');
const positive = (text: string | undefined, fallbackMs: number, flag: string): number => {
  if (text === undefined) return fallbackMs;
  const number = Number(text);
  if (!(number > 0)) fail(`${flag} must be a positive number of seconds`);
  return number * 1000;
};

const timeoutMs = positive(values.timeout, DRILL_DEFAULTS.timeoutMs, '--timeout');
const pollIntervalMs = positive(values.interval, DRILL_DEFAULTS.pollIntervalMs, '--interval');

const result = await runDrill(
  createRoute53DrillClient(),
  (hostname) => resolve4(hostname),
  { now: () => Date.now(), sleep: (ms) => sleep(ms) },
  { action, region, hostedZoneId, recordName, timeoutMs, pollIntervalMs, log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`) },
).catch((error: Error) => {
  // No credentials, no permission, no such zone: the SDK's message says which, in one line.
  process.stderr.write(`drill: ${error.message}\n`);
  process.exit(1);
});
if (!result.ok && action === 'fail') process.stdout.write(`The check stays inverted; undo with: npm run drill -- --restore ${region}\n`);
process.exit(result.ok ? 0 : 1);
