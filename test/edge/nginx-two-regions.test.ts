import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Nginx } from '../support/nginx.js';
import { nginxInstalled, startTwoRegionNginx } from '../support/nginx.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, eventually, put, startOrigin } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';

// CI installs nginx (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!nginxInstalled() && 'nginx (apt-get install nginx)']);

/** fail_timeout of region 1 in docs/cdn/nginx-two-regions.conf: how long it is left alone after a failure. */
const FAIL_TIMEOUT_MS = 2_000;
/** Slack for a busy 2-core host on top of it. */
const SLACK_MS = 3_000;

interface Answer {
  readonly status: number;
  /** The regions nginx asked, in order (`$upstream_addr`). */
  readonly upstreams: readonly string[];
  readonly sentAt: number;
  readonly at: number;
}

run('a real nginx in front of two regions (docs/cdn/nginx-two-regions.conf)', () => {
  let region1: TestOrigin;
  let region2: TestOrigin;
  let region1Host: string;
  let region2Host: string;
  let edge: Nginx;
  let serial = 0;

  beforeAll(async () => {
    [region1, region2] = await Promise.all([startOrigin(), startOrigin()]);
    region1Host = new URL(region1.url).host;
    region2Host = new URL(region2.url).host;
    edge = await startTwoRegionNginx(region1.url, region2.url);
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
    const upstreams = (response.headers.get('x-edge-upstream') ?? '').split(', ').filter(Boolean);
    return { status: response.status, upstreams, sentAt, at: Date.now() };
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

  it('sends misses to region 1 while it answers', async () => {
    for (let i = 0; i < 3; i++) expect(await freshMiss()).toMatchObject({ status: 200, upstreams: [region1Host] });
  });

  it('when region 1 dies, the request that finds it dead is answered by region 2, and misses then go straight there', async () => {
    const region1Gone = Date.now();
    await region1.close();
    // Until region 1 has been tried again after fail_timeout (and found dead again).
    const answers = await missesUntil((answer) => answer.at - region1Gone > FAIL_TIMEOUT_MS && answer.upstreams.length === 2, FAIL_TIMEOUT_MS + SLACK_MS);
    // Not one error on the way, and every answer from region 2.
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.every((answer) => answer.upstreams.at(-1) === region2Host)).toBe(true);
    const [first] = answers;
    expect(first!.upstreams).toEqual([region1Host, region2Host]);
    // In between, region 1 was left alone: misses went to region 2 only.
    const straight = answers.filter((answer) => answer.upstreams.length === 1);
    expect(straight.length).toBeGreaterThan(0);
    const retried = answers.filter((answer) => answer.upstreams.length === 2);
    const again = retried.at(-1)!;
    expect(again.sentAt - first!.sentAt).toBeGreaterThanOrEqual(FAIL_TIMEOUT_MS - 1_000);
    console.log(
      `region 1 closed: the first miss after it (${first!.sentAt - region1Gone} ms later) was answered by region 2 in ${first!.at - first!.sentAt} ms (retried there); ` +
        `${straight.length} misses then went straight to region 2; region 1 tried again ${again.sentAt - first!.sentAt} ms after the first failure (retried, answered in ${again.at - again.sentAt} ms)`,
    );
  });

  it('when region 1 is back, traffic returns to it within fail_timeout', async () => {
    region1 = await startOrigin({ port: Number(region1Host.split(':')[1]) });
    const back = Date.now();
    const answers = await missesUntil((answer) => answer.upstreams.length === 1 && answer.upstreams[0] === region1Host, FAIL_TIMEOUT_MS + SLACK_MS);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(answers.at(-1)!.upstreams).toEqual([region1Host]);
    expect(answers.at(-1)!.at - back).toBeLessThan(FAIL_TIMEOUT_MS + SLACK_MS);
    console.log(`region 1 back: misses answered by it again after ${answers.at(-1)!.at - back} ms`);
  });
});

run('a 5xx from region 1 through the two-region nginx', () => {
  let region1: TestOrigin;
  let region2: TestOrigin;
  let edge: Nginx;
  /** What region 1 answered to delivery requests. */
  const region1Deliveries: string[] = [];

  beforeAll(async () => {
    // Region 1 holds no request: every request it would hold is shed with 503 (overload).
    [region1, region2] = await Promise.all([startOrigin({ maxHeld: 0 }), startOrigin()]);
    region1.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url!.startsWith('/live/')) res.on('finish', () => region1Deliveries.push(`${req.method} ${req.url} ${res.statusCode}`));
    });
    edge = await startTwoRegionNginx(region1.url, region2.url);
  });
  afterAll(async () => {
    await edge?.stop();
    await Promise.all([region1?.close(), region2?.close()]);
  });

  it('is retried on region 2 in the same request, which holds it until the segment is published', async () => {
    const D = 1000;
    const ast = new Date(Date.now() - 4 * D).toISOString();
    for (const region of [region1, region2]) await configure(region, 'shed', { segmentDurationMs: D, startNumber: 1, availabilityStartTime: ast });
    const viewer = fetch(`${edge.url}/live/shed/v/seg_5.m4s`);
    await eventually(() => expect(region2.app.origin.holds.held).toBe(1));
    await Promise.all([put(region1, 'shed', 'a', 'v/seg_5.m4s', 'five'), put(region2, 'shed', 'a', 'v/seg_5.m4s', 'five')]);
    const answer = await viewer;
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('five');
    expect(answer.headers.get('x-edge-upstream')).toBe(`${new URL(region1.url).host}, ${new URL(region2.url).host}`);
    expect(region1Deliveries).toEqual(['GET /live/shed/v/seg_5.m4s 503']);
  });
});
