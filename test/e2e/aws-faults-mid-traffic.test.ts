import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/**
 * No acknowledged segment is lost and no unacknowledged one is served: two origin processes in
 * aws mode take a steady stream of publishes while S3 (s3rver) and then DynamoDB (dynalite) go
 * away for about a second each and come back on the same port with the same data (s3rver's
 * files and dynalite's LevelDB live in a directory that outlives the restart, see
 * test/support/local-aws.ts). The origins are never restarted.
 */

const TOKEN = 'e2e-faults-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const EVENT = 'e2e-faults';
const PUBLISH_EVERY_MS = 50;
const PUBLISH_FOR_MS = 4_500;
const OUTAGE_MS = 1_000;
const S3_DOWN_AT_MS = 500;
/** Leaves more than a second between the outages, so readiness can be seen coming back in between. */
const DYNAMODB_DOWN_AT_MS = 2_800;

let local: LocalAws;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  local = await startLocalAws();
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

interface Publish {
  readonly n: number;
  readonly via: ServerProcess;
  readonly body: Buffer;
  readonly sentAt: number;
  status?: number;
  retryAfter?: string | null;
  error?: string;
  outcome?: Outcome;
}

function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publish(record: Publish): Promise<void> {
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
    const readiness: { t: number; a: number; b: number }[] = [];
    let watching = true;
    let watcher: Promise<void> = Promise.resolve();
    let chaos: Promise<void> = Promise.resolve();
    try {
      watcher = (async () => {
        while (watching) {
          const [ra, rb] = await Promise.all(
            [a, b].map((origin) =>
              fetch(`${origin.url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
                (r) => r.arrayBuffer().then(() => r.status),
                () => 0,
              ),
            ),
          );
          readiness.push({ t: at(), a: ra!, b: rb! });
          await sleep(100);
        }
      })();

      // Outages: S3, then DynamoDB, each about a second, on the same port with the same data.
      const outages = { s3: { from: 0, to: 0 }, dynamoDb: { from: 0, to: 0 } };
      chaos = (async () => {
        await sleep(S3_DOWN_AT_MS);
        outages.s3.from = at();
        await local.s3.stop();
        await sleep(OUTAGE_MS);
        await local.s3.start();
        outages.s3.to = at();
        await sleep(DYNAMODB_DOWN_AT_MS - at());
        outages.dynamoDb.from = at();
        await local.dynamoDb.stop();
        await sleep(OUTAGE_MS);
        await local.dynamoDb.start();
        outages.dynamoDb.to = at();
      })();

      // Publisher: a new segment every 50 ms, alternately through A and B, never waiting for
      // the previous answer. Reader: each tick also GETs an earlier acknowledged segment from
      // the other instance; any 200 must carry exactly the acknowledged bytes.
      const publishes: Publish[] = [];
      const inFlight: Promise<void>[] = [];
      const midTraffic = { reads: 0, ok: 0, wrongBytes: 0, statuses: new Map<number, number>(), log: [] as { sentAt: number; status: number }[] };
      for (let n = 0; at() < PUBLISH_FOR_MS; n++) {
        const record: Publish = { n, via: n % 2 === 0 ? a : b, body: randomBytes(4_096 + Math.floor(Math.random() * 12_288)), sentAt: at() };
        publishes.push(record);
        inFlight.push(publish(record));
        const earlier = publishes.filter((p) => p.outcome === 'acked').at(-1);
        if (earlier) {
          const sentAt = at();
          inFlight.push(
            get(earlier.via === a ? b : a, earlier.n).then(
              (served) => {
                midTraffic.reads++;
                midTraffic.log.push({ sentAt, status: served.status });
                midTraffic.statuses.set(served.status, (midTraffic.statuses.get(served.status) ?? 0) + 1);
                if (served.status === 200) {
                  midTraffic.ok++;
                  if (!served.body.equals(earlier.body)) midTraffic.wrongBytes++;
                }
              },
              () => {},
            ),
          );
        }
        await sleep(Math.max(0, (n + 1) * PUBLISH_EVERY_MS - at()));
      }
      await chaos;
      await Promise.all(inFlight);

      // Recovery: both instances ready again, same processes.
      const readyBy = Date.now() + 5_000;
      while (Date.now() < readyBy) {
        const last = readiness.at(-1);
        if (last && last.t > outages.dynamoDb.to && last.a === 200 && last.b === 200) break;
        await sleep(50);
      }
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
      const refusedIn = (from: number, to: number) => refused.filter((p) => p.sentAt >= from && p.sentAt < to).length;
      /** When readiness of both instances first showed `status` at or after `from` (ms into the run). */
      const firstBoth = (status: number, from: number) => readiness.find((r) => r.t >= from && r.a === status && r.b === status)?.t ?? Infinity;
      const notReady = { s3: firstBoth(503, outages.s3.from) - outages.s3.from, dynamoDb: firstBoth(503, outages.dynamoDb.from) - outages.dynamoDb.from };
      const readyAgain = { s3: firstBoth(200, outages.s3.to) - outages.s3.to, dynamoDb: firstBoth(200, outages.dynamoDb.to) - outages.dynamoDb.to };
      console.log(
        [
          `${publishes.length} publishes: ${acked.length} acked, ${refused.length} refused (${[...refusals].map(([k, v]) => `${v} x ${k}`).join(', ')}), ${unknown.length} without an answer (${unknown.map((p) => p.error).join(', ')})`,
          `S3 down ${outages.s3.from}-${outages.s3.to} ms: ${refusedIn(0, outages.dynamoDb.from)} refused; DynamoDB down ${outages.dynamoDb.from}-${outages.dynamoDb.to} ms: ${refusedIn(outages.dynamoDb.from, Infinity)} refused`,
          `timeline (one mark per publish, 50 ms apart; + acked, x refused, ? no answer): ${publishes.map((p) => (p.outcome === 'acked' ? '+' : p.outcome === 'refused' ? 'x' : '?')).join('')}`,
          `mid-traffic reads of acked segments: ${midTraffic.reads}, ${midTraffic.ok} x 200, statuses ${JSON.stringify([...midTraffic.statuses])}, wrong bytes ${midTraffic.wrongBytes}`,
          `readiness (both instances, sampled every 100 ms): 503 ${notReady.s3} ms after S3 stopped, 200 ${readyAgain.s3} ms after it restarted; 503 ${notReady.dynamoDb} ms after DynamoDB stopped, 200 ${readyAgain.dynamoDb} ms after it restarted`,
        ].join('\n'),
      );

      // The outages were seen: explicit 503s with Retry-After in each, nothing else refused.
      expect(acked.length).toBeGreaterThan(0);
      expect(refusedIn(0, outages.dynamoDb.from)).toBeGreaterThan(0);
      expect(refusedIn(outages.dynamoDb.from, Infinity)).toBeGreaterThan(0);
      for (const p of refused) {
        expect(p.status).toBe(503);
        expect(p.retryAfter).toBeTruthy();
      }
      // Readiness follows the store within a second (plus the 100 ms sampling), both ways,
      // and the origins recover by themselves.
      for (const ms of [notReady.s3, readyAgain.s3, notReady.dynamoDb, readyAgain.dynamoDb]) expect(ms).toBeLessThan(1_100);
      expect(readiness.at(-1)).toMatchObject({ a: 200, b: 200 });
      // Publishes sent while both stores were up (clear of the outages by 300 ms) all succeeded.
      // A publish takes up to a few hundred ms on a loaded 2-core host, so one sent just before
      // an outage may still meet it: the margins are the same on both sides. Beside other
      // suites a publish took over 500 ms, so `npm test` runs this file alone (`npm run test:solo`).
      const clear = (p: { sentAt: number }) =>
        p.sentAt < outages.s3.from - 300 || (p.sentAt > outages.s3.to + 300 && p.sentAt < outages.dynamoDb.from - 300) || p.sentAt > outages.dynamoDb.to + 300;
      /**
       * A write sent just before a store stops can land there while its answer is lost: the
       * origin cannot tell that from a failed write, so it answers 503 and the packager retries
       * (identical bytes: idempotent). Only such a publish may be refused yet served, and then
       * only with exactly its bytes; anything refused later into an outage must stay invisible.
       */
      const mayHaveLanded = (p: { sentAt: number }) =>
        (p.sentAt >= outages.s3.from - 300 && p.sentAt < outages.s3.from + 300) ||
        (p.sentAt >= outages.dynamoDb.from - 300 && p.sentAt < outages.dynamoDb.from + 300);
      const clearOnes = publishes.filter(clear);
      expect(clearOnes.length).toBeGreaterThan(publishes.length / 4);
      for (const p of clearOnes) expect({ n: p.n, outcome: p.outcome }).toEqual({ n: p.n, outcome: 'acked' });
      expect(midTraffic.wrongBytes).toBe(0);
      // Reads sent while both stores were up found the acknowledged segment on the other instance.
      const clearReads = midTraffic.log.filter(clear);
      expect(clearReads.length).toBeGreaterThan(0);
      for (const read of clearReads) expect(read).toEqual({ sentAt: read.sentAt, status: 200 });
      expect([a.child.pid, b.child.pid]).toEqual(pids);
      expect([a.child.exitCode, b.child.exitCode]).toEqual([null, null]);

      // Every acknowledged segment is served with exactly its bytes, by both instances; every
      // refused one is not served at all; a publish without an answer may have committed.
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
        `after recovery: ${acked.length} acked segments served with their bytes by both instances, ${refused.length - refusedLanded} refused ones not served (${refusedLanded} sent as a store stopped had landed, with their bytes), ${unknownServed} of ${unknown.length} unanswered ones committed`,
      );
    } finally {
      // Whatever failed, leave nothing running: the stores are back and the watcher stopped.
      watching = false;
      await Promise.allSettled([watcher, chaos]);
    }
  }, 35_000);
});
