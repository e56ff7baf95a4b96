/**
 * The failover drill's logic, free of the AWS SDK and of real time: it inverts a region's
 * Route 53 endpoint check (so the region looks dark to Route 53 without touching the fleet),
 * then watches two things until both show the change: what Route 53's checkers report, and
 * which region the failover name resolves to. `--restore` undoes it the same way.
 *
 * Everything it talks to is passed in (`DrillRoute53`, `ResolveAddresses`, `DrillClock`), so
 * tests drive it with fakes and scripts/drill.ts with the SDK, DNS and the wall clock.
 */
import { healthCheckName } from '../../lib/naming.js';

/** One failover record of the name, as Route 53 holds it. */
export interface FailoverRecord {
  readonly region: string;
  readonly role: 'PRIMARY' | 'SECONDARY';
  /** The alias target (the region's load balancer), without the trailing dot. */
  readonly aliasDnsName: string;
}

/** The Route 53 calls the drill makes. */
export interface DrillRoute53 {
  /** The id of the health check whose `Name` tag is `name`, if there is one. */
  findHealthCheckId(name: string): Promise<string | undefined>;
  setInverted(healthCheckId: string, inverted: boolean): Promise<void>;
  /** The latest status line of each Route 53 checker (`Success: ...` or `Failure: ...`). */
  checkerStatuses(healthCheckId: string): Promise<readonly string[]>;
  /** The failover records of `recordName` (type A) in the zone. */
  failoverRecords(hostedZoneId: string, recordName: string): Promise<readonly FailoverRecord[]>;
  /** The addresses Route 53's name servers answer for `recordName` now. */
  answer(hostedZoneId: string, recordName: string): Promise<readonly string[]>;
}

/** Resolves a host name to its IPv4 addresses (the load balancers' current addresses). */
export type ResolveAddresses = (hostname: string) => Promise<readonly string[]>;

export interface DrillClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export type DrillAction = 'fail' | 'restore';

export interface DrillOptions {
  readonly action: DrillAction;
  /** The region to fail or restore. */
  readonly region: string;
  readonly hostedZoneId: string;
  /** The failover name, e.g. `origin.example.com` (no trailing dot). */
  readonly recordName: string;
  /** @default DRILL_DEFAULTS.pollIntervalMs */
  readonly pollIntervalMs?: number;
  /** @default DRILL_DEFAULTS.timeoutMs */
  readonly timeoutMs?: number;
  /** Told of each step, one line each. */
  readonly log?: (line: string) => void;
}

export interface DrillResult {
  /** DNS answered the expected region before the timeout. */
  readonly ok: boolean;
  readonly action: DrillAction;
  readonly region: string;
  readonly healthCheckId?: string;
  /** Milliseconds from the update until the checkers reported the expected status. */
  readonly statusAfterMs?: number;
  /** The region Route 53 answered last, if its addresses matched one. */
  readonly answeredBy?: string;
  /** Milliseconds from the update until DNS answered as expected. */
  readonly answerAfterMs?: number;
  /** One sentence: what happened. */
  readonly summary: string;
}

export const DRILL_DEFAULTS = {
  /** Route 53's fast interval is 10 s; polling twice as often sees each change. */
  pollIntervalMs: 5_000,
  /** Ten times the default detection time (30 s): a drill that has not converged by then shows a real problem. */
  timeoutMs: 300_000,
} as const;

/**
 * Route 53 calls an endpoint healthy while more than 18 % of its checkers report it healthy
 * (Route 53 developer guide, "How Amazon Route 53 determines whether a health check is healthy").
 */
export const HEALTHY_CHECKER_SHARE = 0.18;

/** What the checkers' latest reports add up to; `unknown` without reports. */
export function checkersVerdict(statuses: readonly string[]): 'healthy' | 'unhealthy' | 'unknown' {
  if (statuses.length === 0) return 'unknown';
  const healthy = statuses.filter((status) => status.startsWith('Success')).length;
  return healthy / statuses.length > HEALTHY_CHECKER_SHARE ? 'healthy' : 'unhealthy';
}

/** The region whose load balancer addresses appear in `answer`, if exactly one does. */
export function regionOfAnswer(answer: readonly string[], addressesByRegion: ReadonlyMap<string, readonly string[]>): string | undefined {
  const matches = [...addressesByRegion].filter(([, addresses]) => addresses.some((address) => answer.includes(address)));
  return matches.length === 1 ? matches[0]![0] : undefined;
}

/** Runs the drill; never throws for a drill that did not converge (see `ok`), only for bad input or AWS errors. */
export async function runDrill(route53: DrillRoute53, resolve: ResolveAddresses, clock: DrillClock, options: DrillOptions): Promise<DrillResult> {
  const pollIntervalMs = options.pollIntervalMs ?? DRILL_DEFAULTS.pollIntervalMs;
  const timeoutMs = options.timeoutMs ?? DRILL_DEFAULTS.timeoutMs;
  const log = options.log ?? (() => undefined);
  const { action, region } = options;

  const records = await route53.failoverRecords(options.hostedZoneId, options.recordName);
  const primary = records.find((record) => record.role === 'PRIMARY');
  if (!primary || !records.some((record) => record.region === region)) {
    const found = records.map((record) => `${record.region} (${record.role})`).join(', ') || 'none';
    throw new Error(`no failover record of ${options.recordName} for ${region} and a PRIMARY one; found: ${found}`);
  }
  const checkName = healthCheckName(region, 'endpoint');
  const healthCheckId = await route53.findHealthCheckId(checkName);
  if (!healthCheckId) throw new Error(`no Route 53 health check tagged Name=${checkName}; is the origin stack of ${region} deployed with a domain?`);

  // After a fail, any region but this one answers (the primary stays if this is the secondary);
  // after a restore, both are healthy again and the primary answers.
  const wantedAnswer = (answeredBy: string | undefined): boolean =>
    answeredBy !== undefined && (action === 'fail' ? answeredBy !== region : answeredBy === primary.region);
  const wantedStatus = action === 'fail' ? 'unhealthy' : 'healthy';

  const start = clock.now();
  await route53.setInverted(healthCheckId, action === 'fail');
  log(`${action === 'fail' ? 'inverted' : 'restored'} ${checkName} (${healthCheckId}); waiting for the checkers and for DNS`);

  let statusAfterMs: number | undefined;
  let answerAfterMs: number | undefined;
  let answeredBy: string | undefined;
  for (;;) {
    const elapsed = clock.now() - start;
    if (statusAfterMs === undefined && checkersVerdict(await route53.checkerStatuses(healthCheckId)) === wantedStatus) {
      statusAfterMs = elapsed;
      log(`+${seconds(elapsed)} s: Route 53 checkers report ${region} ${wantedStatus}`);
    }
    if (answerAfterMs === undefined) {
      const addresses = new Map<string, readonly string[]>();
      for (const record of records) addresses.set(record.region, await resolve(record.aliasDnsName));
      const answer = await route53.answer(options.hostedZoneId, options.recordName);
      const now = regionOfAnswer(answer, addresses);
      if (now !== answeredBy) log(`+${seconds(elapsed)} s: ${options.recordName} answers ${now ?? `addresses of no known region (${answer.join(', ')})`}`);
      answeredBy = now;
      if (wantedAnswer(now)) answerAfterMs = elapsed;
    }
    if (statusAfterMs !== undefined && answerAfterMs !== undefined) break;
    if (elapsed >= timeoutMs) break;
    await clock.sleep(pollIntervalMs);
  }

  const ok = answerAfterMs !== undefined;
  const dns = ok
    ? `DNS answered ${answeredBy} after ${seconds(answerAfterMs!)} s`
    : `DNS still answered ${answeredBy ?? 'no known region'} after ${seconds(timeoutMs)} s`;
  const status =
    statusAfterMs !== undefined
      ? `checkers reported ${wantedStatus} after ${seconds(statusAfterMs)} s`
      : `checkers never reported ${wantedStatus} (an inverted check may report raw results)`;
  const summary = `${action} ${region}: ${dns}; ${status}.`;
  log(summary);
  return { ok, action, region, healthCheckId, statusAfterMs, answeredBy, answerAfterMs, summary };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
