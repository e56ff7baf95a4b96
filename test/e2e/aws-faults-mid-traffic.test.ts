import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAwsInProcesses } from '../support/local-aws.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/**
 * No acknowledged segment is lost and no unacknowledged one is served: two origin processes in
 * aws mode take a steady stream of publishes while S3 (s3rver) and then DynamoDB (dynalite) go
 * away for a second or so each and come back on the same port with the same data (s3rver's
 * files and dynalite's LevelDB live in a directory that outlives the restart, see
 * scripts/local/local-aws.ts). The origins are never restarted. Each store server runs in a
 * process of its own (scripts/local/store-processes.ts): on this process's busy event loop
 * their answers came late enough for the origins' store timeouts to refuse publishes while
 * both stores were up.
 *
 * Each publish and each read is judged by what happened to it, not by when it was sent: the
 * test knows when each store went down and came back, and when each request was sent and
 * answered, all on one clock. A publish sent and answered while both stores were up made
 * every store call against a live store, so it must be acknowledged, however long it took; one
 * that overlapped an outage may have met a dead store, so it may be refused (503 with
 * Retry-After); one in flight as a store went down may even have landed without its answer,
 * and then it is served with exactly its bytes. Outages start and end at the times below or
 * when readiness has shown them, whichever is later, so no verdict rests on a margin of time.
 */

const TOKEN = 'e2e-faults-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const EVENT = 'e2e-faults';
const PUBLISH_EVERY_MS = 50;
/**
 * Publishes sent after one outage (or the start) and answered before the next one starts (or
 * publishing stops): each phase with both stores up has at least these, however slowly the
 * host answers, so the checks of publishes that met only live stores are never vacuous.
 */
const CLEAR_PUBLISHES = 10;
/** Publishing goes on at least this long after the last outage, once both instances are ready again. */
const PUBLISH_AFTER_MS = 700;
/** Each outage lasts at least this long, and until both instances have been seen unready. */
const OUTAGE_MS = 1_000;
/** At the earliest. */
const S3_DOWN_AT_MS = 500;
/** At the earliest; and only once both instances have been seen ready again after S3 came back. */
const DYNAMODB_DOWN_AT_MS = 2_800;
/**
 * Readiness follows the store within a second (plus the 100 ms sampling), both ways. Judged by
 * the last sample sent that still showed the old state: a sample answered late because this
 * busy process read it late does not count against the origin.
 */
const READINESS_FOLLOWS_MS = 1_100;
/**
 * How long the run waits for something to happen (readiness showing a change, publishes being
 * answered) before it goes on anyway and lets the checks fail: far beyond READINESS_FOLLOWS_MS
 * and a publish's 6 s timeout, so reached only when the origin is broken.
 */
const GIVE_UP_MS = 10_000;

let local: LocalAws;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  local = await startLocalAwsInProcesses();
  const env = local.originEnv(TOKEN);
  [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  // A timeline an hour ahead: a segment that was never stored is a plain 404 at once (never
  // held), so "not served" is unambiguous.
  const config = await fetch(`${a.url}/admin/events/${EVENT}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ pipelines: ['a'], segmentDurationMs: 2_000, availabilityStartTime: new Date(Date.now() + 3_600_000).toISOString(), startNumber: 0 }),
  });
  expect(config.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await local?.stop();
});

type Outcome = 'acked' | 'refused' | 'unknown';

/** When a request was sent and when its answer (or its failure) came, in ms into the run. */
interface Exchange {
  readonly sentAt: number;
  answeredAt: number;
}

interface Publish extends Exchange {
  readonly n: number;
  readonly via: ServerProcess;
  readonly body: Buffer;
  status?: number;
  retryAfter?: string | null;
  error?: string;
  outcome?: Outcome;
}

/** A store's outage: from just before it was stopped until it was listening again (ms into the run). */
interface Outage {
  readonly store: 'S3' | 'DynamoDB';
  /** Just before the stop was asked for, and once the start was answered: the outage lies within. */
  readonly from: number;
  to: number;
  /** When the server itself stopped answering and listened again (it runs in another process). */
  wentDown: number;
  cameBack: number;
}

/** Readiness of both instances (status, or 0 without an answer), and when it was asked. */
interface ReadinessSample extends Exchange {
  a: number;
  b: number;
}

function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Any part of the exchange fell within the outage: a store call of it may have met the dead store. */
const overlaps = (exchange: Exchange, outage: Outage) => exchange.sentAt < outage.to && exchange.answeredAt > outage.from;
/** Under way as the store went down: a write of it may have landed there, its answer lost. */
const inFlightAtStop = (exchange: Exchange, outage: Outage) => exchange.sentAt <= outage.wentDown && exchange.answeredAt >= outage.wentDown;

/**
 * What a mid-traffic read may have waited on. An instance loads a segment's record and bytes
 * once for all the reads that want them at the same time (single-flight caches), so a read may
 * wait on a store call that an earlier read of the same segment, still unanswered, started:
 * the read's exposure begins when the earliest read in that chain was sent.
 */
function exposure<T extends Exchange & { n: number; from: string }>(read: T, log: readonly T[]): Exchange {
  let sentAt = read.sentAt;
  const sameSegment = log.filter((other) => other.n === read.n && other.from === read.from && other.sentAt < read.sentAt);
  for (const other of sameSegment.sort((x, y) => y.sentAt - x.sentAt)) {
    if (other.answeredAt > sentAt) sentAt = Math.min(sentAt, other.sentAt);
  }
  return { sentAt, answeredAt: read.answeredAt };
}

async function publish(record: Publish, at: () => number): Promise<void> {
  try {
    const response = await fetch(`${record.via.url}/ingest/${EVENT}/a/v/seg_${record.n}.m4s`, {
      method: 'PUT',
      headers: { ...AUTH, 'content-type': 'video/mp4' },
      body: record.body,
      signal: AbortSignal.timeout(6_000),
    });
    await response.arrayBuffer();
    record.status = response.status;
    record.retryAfter = response.headers.get('retry-after');
    // Only an explicit answer counts as unacknowledged; a lost answer may hide a commit.
    record.outcome = response.status >= 200 && response.status < 300 ? 'acked' : 'refused';
  } catch (error) {
    record.error = (error as Error).name;
    record.outcome = 'unknown';
  } finally {
    record.answeredAt = at();
  }
}

async function get(origin: ServerProcess, n: number): Promise<{ status: number; etag: string | null; body: Buffer }> {
  const response = await fetch(`${origin.url}/live/${EVENT}/v/seg_${n}.m4s`, { signal: AbortSignal.timeout(6_000) });
  return { status: response.status, etag: response.headers.get('etag'), body: Buffer.from(await response.arrayBuffer()) };
}

describe('store outages in the middle of publishing', () => {
  it('loses no acknowledged segment, serves no refused one, and recovers without a restart', async () => {
    const pids = [a.child.pid, b.child.pid];
    const started = Date.now();
    const at = () => Date.now() - started;

    // Readiness of both instances, every 100 ms, for the whole run (stopped in `finally`).
    const readiness: ReadinessSample[] = [];
    let watching = true;
    let watcher: Promise<void> = Promise.resolve();
    let chaos: Promise<void> = Promise.resolve();
    const publishes: Publish[] = [];
    /** Resolves once `happened()`, or after GIVE_UP_MS. */
    const until = async (happened: () => boolean) => {
      const giveUpAt = at() + GIVE_UP_MS;
      while (!happened() && at() < giveUpAt) await sleep(20);
    };
    /** Each instance showed `status` in a sample sent at or after `from`. */
    const seenBoth = (status: number, from: number) => () =>
      (['a', 'b'] as const).every((instance) => readiness.some((r) => r.sentAt >= from && r[instance] === status));
    /** CLEAR_PUBLISHES publishes sent at or after `from` have been answered. */
    const answeredSince = (from: number) => () => publishes.filter((p) => p.sentAt >= from && p.answeredAt <= at()).length >= CLEAR_PUBLISHES;
    try {
      watcher = (async () => {
        while (watching) {
          const sentAt = at();
          const [ra, rb] = await Promise.all(
            [a, b].map((origin) =>
              fetch(`${origin.url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
                (r) => r.arrayBuffer().then(() => r.status),
                () => 0,
              ),
            ),
          );
          readiness.push({ sentAt, answeredAt: at(), a: ra!, b: rb! });
          await sleep(100);
        }
      })();

      // Outages: S3, then DynamoDB, each about a second, on the same port with the same data.
      const outages: Outage[] = [];
      let chaosOverAt = Infinity;
      chaos = (async () => {
        const stores = [
          { store: 'S3', server: local.s3, earliest: S3_DOWN_AT_MS },
          { store: 'DynamoDB', server: local.dynamoDb, earliest: DYNAMODB_DOWN_AT_MS },
        ] as const;
        let upSince = 0;
        for (const { store, server, earliest } of stores) {
          await Promise.all([sleep(earliest - at()), until(answeredSince(upSince))]);
          const outage: Outage = { store, from: at(), to: Infinity, wentDown: Infinity, cameBack: Infinity };
          outages.push(outage);
          await server.stop();
          outage.wentDown = server.changedAt - started;
          await Promise.all([sleep(outage.from + OUTAGE_MS - at()), until(seenBoth(503, outage.from))]);
          await server.start();
          outage.to = at();
          outage.cameBack = server.changedAt - started;
          upSince = outage.to;
          await until(seenBoth(200, outage.to));
        }
      })().finally(() => {
        chaosOverAt = at();
      });

      // Publisher: a new segment every 50 ms, alternately through A and B, never waiting for
      // the previous answer. Reader: each tick also GETs an earlier acknowledged segment from
      // the other instance; any 200 must carry exactly the acknowledged bytes.
      const inFlight: Promise<void>[] = [];
      const midTraffic = {
        reads: 0,
        ok: 0,
        wrongBytes: 0,
        statuses: new Map<number, number>(),
        log: [] as (Exchange & { n: number; from: 'A' | 'B'; status: number })[],
      };
      const publishing = () => at() < chaosOverAt + PUBLISH_AFTER_MS || (at() < chaosOverAt + GIVE_UP_MS && !answeredSince(outages.at(-1)?.to ?? 0)());
      for (let n = 0; publishing(); n++) {
        const record: Publish = {
          n,
          via: n % 2 === 0 ? a : b,
          body: randomBytes(4_096 + Math.floor(Math.random() * 12_288)),
          sentAt: at(),
          answeredAt: Infinity,
        };
        publishes.push(record);
        inFlight.push(publish(record, at));
        const earlier = publishes.filter((p) => p.outcome === 'acked').at(-1);
        if (earlier) {
          const sentAt = at();
          const from = earlier.via === a ? 'B' : 'A';
          inFlight.push(
            get(earlier.via === a ? b : a, earlier.n).then(
              (served) => {
                midTraffic.reads++;
                midTraffic.log.push({ sentAt, answeredAt: at(), n: earlier.n, from, status: served.status });
                midTraffic.statuses.set(served.status, (midTraffic.statuses.get(served.status) ?? 0) + 1);
                if (served.status === 200) {
                  midTraffic.ok++;
                  if (!served.body.equals(earlier.body)) midTraffic.wrongBytes++;
                }
              },
              () => {
                midTraffic.log.push({ sentAt, answeredAt: at(), n: earlier.n, from, status: 0 });
              },
            ),
          );
        }
        await sleep((n + 1) * PUBLISH_EVERY_MS - at());
      }
      await chaos;
      await Promise.all(inFlight);

      // Recovery: both instances ready again, same processes.
      await until(() => {
        const last = readiness.at(-1);
        return last !== undefined && last.sentAt > chaosOverAt && last.a === 200 && last.b === 200;
      });
      watching = false;
      await watcher;

      const acked = publishes.filter((p) => p.outcome === 'acked');
      const refused = publishes.filter((p) => p.outcome === 'refused');
      const unknown = publishes.filter((p) => p.outcome === 'unknown');
      const refusals = new Map<string, number>();
      for (const p of refused) {
        const answer = `${p.status}${p.retryAfter ? ` Retry-After ${p.retryAfter}` : ''}`;
        refusals.set(answer, (refusals.get(answer) ?? 0) + 1);
      }
      /** Met only live stores: sent and answered outside every outage. */
      const clear = (exchange: Exchange) => !outages.some((outage) => overlaps(exchange, outage));
      const mayHaveLanded = (exchange: Exchange) => outages.some((outage) => inFlightAtStop(exchange, outage));
      /**
       * How long readiness took to follow a change at `from` to `next` (200 or 503), judged by
       * the samples sent in [from, until): for each instance, the last sample that still showed
       * the other state before the first that showed `next`. Infinity if one never showed `next`.
       */
      const followed = (from: number, until: number, next: number) => {
        const window = readiness.filter((r) => r.sentAt >= from && r.sentAt < until);
        let lag = 0;
        for (const instance of ['a', 'b'] as const) {
          const first = window.findIndex((r) => r[instance] === next);
          if (first < 0) return Infinity;
          const old = window
            .slice(0, first)
            .reverse()
            .find((r) => r[instance] === (next === 200 ? 503 : 200));
          if (old) lag = Math.max(lag, old.sentAt - from);
        }
        return lag;
      };
      const readinessLags = outages.map((outage, i) => ({
        store: outage.store,
        notReady: followed(outage.wentDown, outage.cameBack, 503),
        readyAgain: followed(outage.cameBack, outages[i + 1]?.wentDown ?? Infinity, 200),
      }));
      const [s3, dynamoDb] = outages as [Outage, Outage];
      const clearOnes = publishes.filter(clear);
      const clearReads = midTraffic.log.filter((read) => clear(exposure(read, midTraffic.log)));
      console.log(
        [
          `${publishes.length} publishes: ${acked.length} acked, ${refused.length} refused (${[...refusals].map(([k, v]) => `${v} x ${k}`).join(', ')}), ${unknown.length} without an answer (${unknown.map((p) => p.error).join(', ')})`,
          ...outages.map(
            (outage) =>
              `${outage.store} down ${outage.wentDown}-${outage.cameBack} ms (asked for at ${outage.from}, back as answered at ${outage.to}): ${publishes.filter((p) => overlaps(p, outage)).length} publishes overlapped it (${refused.filter((p) => overlaps(p, outage)).length} refused), ${publishes.filter((p) => inFlightAtStop(p, outage)).length} in flight as it stopped`,
          ),
          `${clearOnes.length} publishes sent and answered while both stores were up (${clearOnes.filter((p) => p.outcome === 'acked').length} acked); longest of them ${Math.max(...clearOnes.map((p) => p.answeredAt - p.sentAt))} ms`,
          `timeline (one mark per publish, 50 ms apart; + acked, x refused, ? no answer): ${publishes.map((p) => (p.outcome === 'acked' ? '+' : p.outcome === 'refused' ? 'x' : '?')).join('')}`,
          `mid-traffic reads of acked segments: ${midTraffic.reads}, ${midTraffic.ok} x 200, statuses ${JSON.stringify([...midTraffic.statuses])}, wrong bytes ${midTraffic.wrongBytes}; ${clearReads.length} met only live stores (${midTraffic.log.filter(clear).length - clearReads.length} more sent and answered while both were up may have waited on an earlier read that was not)`,
          `readiness (both instances, sampled every 100 ms; ${readiness.length} samples): ${readinessLags.map((r) => `last seen ready ${r.notReady} ms after ${r.store} stopped, last seen unready ${r.readyAgain} ms after it restarted`).join('; ')}`,
        ].join('\n'),
      );

      // The outages were seen: explicit 503s with Retry-After in each, nothing else refused.
      expect(outages.map((outage) => outage.store)).toEqual(['S3', 'DynamoDB']);
      expect(acked.length).toBeGreaterThan(0);
      expect(refused.filter((p) => overlaps(p, s3)).length).toBeGreaterThan(0);
      expect(refused.filter((p) => overlaps(p, dynamoDb)).length).toBeGreaterThan(0);
      for (const p of refused) {
        expect(p.status).toBe(503);
        expect(p.retryAfter).toBeTruthy();
      }
      // Readiness follows the store within a second (plus the 100 ms sampling), both ways,
      // and the origins recover by themselves.
      for (const ms of readinessLags.flatMap((r) => [r.notReady, r.readyAgain])) expect(ms).toBeLessThan(READINESS_FOLLOWS_MS);
      expect(readiness.at(-1)).toMatchObject({ a: 200, b: 200 });
      // Publishes sent and answered while both stores were up all succeeded, however long they took.
      expect(clearOnes.length).toBeGreaterThan(publishes.length / 4);
      for (const p of clearOnes) expect({ n: p.n, outcome: p.outcome }).toEqual({ n: p.n, outcome: 'acked' });
      expect(midTraffic.wrongBytes).toBe(0);
      // Reads that met only live stores (they, and any earlier read of the same segment they may
      // have waited on, were sent and answered while both stores were up) found the
      // acknowledged segment on the other instance.
      expect(clearReads.length).toBeGreaterThan(0);
      for (const read of clearReads) expect(read).toEqual({ ...read, status: 200 });
      expect([a.child.pid, b.child.pid]).toEqual(pids);
      expect([a.child.exitCode, b.child.exitCode]).toEqual([null, null]);

      // Every acknowledged segment is served with exactly its bytes, by both instances; every
      // refused one is not served at all, unless it was under way as a store went down (its
      // write may have landed without its answer: the origin cannot tell that from a failed
      // write, so it answers 503 and the packager retries with identical bytes), and then only
      // with exactly its bytes; a publish without an answer may have committed.
      let unknownServed = 0;
      let refusedLanded = 0;
      for (const p of publishes) {
        const [fromA, fromB] = await Promise.all([get(a, p.n), get(b, p.n)]);
        for (const served of [fromA, fromB]) {
          if (p.outcome === 'acked') {
            expect({ n: p.n, status: served.status }).toEqual({ n: p.n, status: 200 });
            expect(served.etag).toBe(md5Etag(p.body));
            expect(served.body.equals(p.body)).toBe(true);
          } else if (p.outcome === 'refused' && mayHaveLanded(p) && served.status === 200) {
            expect(served.body.equals(p.body)).toBe(true);
          } else if (p.outcome === 'refused') {
            expect({ n: p.n, status: served.status }).toEqual({ n: p.n, status: 404 });
            expect(served.body.equals(p.body)).toBe(false);
          } else {
            expect([200, 404]).toContain(served.status);
            if (served.status === 200) expect(served.body.equals(p.body)).toBe(true);
          }
        }
        if (p.outcome === 'unknown' && fromA.status === 200) unknownServed++;
        if (p.outcome === 'refused' && fromA.status === 200) refusedLanded++;
      }
      console.log(
        `after recovery: ${acked.length} acked segments served with their bytes by both instances, ${refused.length - refusedLanded} refused ones not served (${refusedLanded} under way as a store stopped had landed, with their bytes), ${unknownServed} of ${unknown.length} unanswered ones committed`,
      );
    } finally {
      // Whatever failed, leave nothing running: the stores are back and the watcher stopped.
      watching = false;
      await Promise.allSettled([watcher, chaos]);
    }
  }, 60_000);
});
