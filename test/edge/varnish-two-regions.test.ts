import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { put, startOrigin } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { startTwoRegionVarnish, varnishInstalled } from '../support/varnish.js';

// CI installs Varnish (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!varnishInstalled() && 'varnish (apt-get install varnish)']);

/** The probe (docs/cdn/varnish-two-regions.vcl): 500 ms interval, sick after 3 bad in a row; with slack for a busy machine. */
const PROBE_NOTICE_MS = 3_000;
/** How long the misses go on before a check gives up (and fails): far beyond PROBE_NOTICE_MS. */
const GIVE_UP_MS = 10_000;

interface Answer {
  readonly status: number;
  readonly backend: string | null;
  readonly retried: boolean;
  /** When the GET was sent and when its answer was read, ms since the epoch. */
  readonly sentAt: number;
  readonly at: number;
}

/**
 * How long after `from` the director was last seen on the old side: when the last answer that
 * did not yet satisfy the change was sent (0 if none). A slow answer to this busy process does
 * not count against the probes; a GET sent later that still got the old side does.
 */
function lastBefore(answers: readonly Answer[], from: number): number {
  const old = answers.slice(0, -1).at(-1);
  return old ? Math.max(0, old.sentAt - from) : 0;
}

run('a real Varnish in front of two regions (docs/cdn/varnish-two-regions.vcl)', () => {
  let region1: TestOrigin;
  let region2: TestOrigin;
  let region1Port: number;
  let edge: Varnish;
  let serial = 0;

  beforeAll(async () => {
    [region1, region2] = await Promise.all([startOrigin(), startOrigin()]);
    region1Port = Number(new URL(region1.url).port);
    edge = await startTwoRegionVarnish(region1.url, region2.url);
  });
  afterAll(async () => {
    await edge?.stop();
    await Promise.all([region1?.close(), region2?.close()]);
  });

  /** A new object in both regions (as the peer copy and global tables would have it), fetched once through the edge: always a miss. */
  async function freshMiss(): Promise<Answer> {
    const path = `v/seg_${++serial}.m4s`;
    // Region 1 may be down: then only region 2 has it, as after a failover.
    await Promise.allSettled([put(region1, 'regions', 'a', path, `r1-${serial}`), put(region2, 'regions', 'a', path, `r2-${serial}`)]);
    const sentAt = Date.now();
    const response = await fetch(`${edge.url}/live/regions/${path}`);
    await response.arrayBuffer();
    return {
      status: response.status,
      backend: response.headers.get('x-edge-backend'),
      retried: response.headers.has('x-edge-retries'),
      sentAt,
      at: Date.now(),
    };
  }

  /** Misses every 50 ms until one satisfies `done`; every answer on the way is kept. */
  async function missesUntil(done: (answer: Answer) => boolean, timeoutMs: number): Promise<Answer[]> {
    const answers: Answer[] = [];
    const until = Date.now() + timeoutMs;
    for (;;) {
      const answer = await freshMiss();
      answers.push(answer);
      if (done(answer) || Date.now() > until) return answers;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('sends misses to region 1 while it is ready', async () => {
    for (let i = 0; i < 3; i++) expect(await freshMiss()).toMatchObject({ status: 200, backend: 'region1', retried: false });
  });

  it('when region 1 dies, viewers get region 2 at once (retry), then the probes move the director', async () => {
    const region1Gone = Date.now();
    await region1.close();
    const answers = await missesUntil((answer) => answer.backend === 'region2' && !answer.retried, GIVE_UP_MS);
    // Not one error on the way: a fetch that failed on region 1 was retried on region 2.
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.every((answer) => answer.backend === 'region2')).toBe(true);
    const moved = answers.at(-1)!;
    expect(moved.retried).toBe(false);
    expect(lastBefore(answers, region1Gone)).toBeLessThan(PROBE_NOTICE_MS);
    console.log(
      `region 1 closed: first answer from region 2 after ${answers[0]!.at - region1Gone} ms (${answers.filter((a) => a.retried).length} retried), director on region 2 after ${moved.at - region1Gone} ms (the last retried miss was sent ${lastBefore(answers, region1Gone)} ms after the close)`,
    );
  });

  it('when region 1 is back, its probes bring traffic back', async () => {
    region1 = await startOrigin({ port: region1Port });
    const back = Date.now();
    const answers = await missesUntil((answer) => answer.backend === 'region1', GIVE_UP_MS);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(answers.at(-1)!.backend).toBe('region1');
    expect(lastBefore(answers, back)).toBeLessThan(PROBE_NOTICE_MS);
  });

  it('a region whose /readyz says 503 (draining, or its store is down) is left while it still answers', async () => {
    region1.app.origin.readiness.drain();
    const drained = Date.now();
    const answers = await missesUntil((answer) => answer.backend === 'region2', GIVE_UP_MS);
    expect(answers.every((answer) => answer.status === 200 && !answer.retried)).toBe(true);
    expect(answers.at(-1)!.backend).toBe('region2');
    expect(lastBefore(answers, drained)).toBeLessThan(PROBE_NOTICE_MS);
  });
});
