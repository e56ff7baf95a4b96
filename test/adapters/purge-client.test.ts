import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PurgeClient, type PurgeClientOptions } from '../../runtime/adapters/purge-client.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/until.js';

type Outcome = 'ok' | 'retried' | 'failed' | 'dropped';

interface CdnStub {
  readonly base: string;
  /** `METHOD url` of every request received, in arrival order. */
  readonly requests: string[];
  /** Most requests in flight at once. */
  readonly maxInFlight: () => number;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A CDN stand-in on 127.0.0.1 that records requests and answers `status(request, nth)` after `delayMs`. */
async function cdn(status: (request: IncomingMessage, nth: number) => number | 'hang' = () => 200, delayMs = 0): Promise<CdnStub> {
  const requests: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const answer = status(request, requests.length);
    if (answer === 'hang') return;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      response.statusCode = answer;
      response.end('body the client must discard');
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, requests, maxInFlight: () => maxInFlight };
}

/** Pauses between attempts in these tests are at most this long; an attempt's time limit is longer. */
const MAX_PAUSE_MS = 1_000;

/**
 * The client on fake time: its pauses between attempts pass when `flush` runs them (each exactly
 * as long as the client asked), and an attempt's time limit passes only when a test moves the clock.
 */
function client(baseUrls: string[], options: Partial<PurgeClientOptions> & { clock?: ManualClock } = {}) {
  const outcomes: Outcome[] = [];
  const failures: [string, string][] = [];
  const clock = options.clock ?? new ManualClock();
  const purger = new PurgeClient({
    baseUrls,
    onOutcome: (outcome) => outcomes.push(outcome),
    onFailure: (url, reason) => failures.push([url, reason]),
    retryDelayMs: 5,
    timeoutMs: 5_000,
    ...options,
    clock,
  });
  const flush = () => clock.runPauses(purger.flush(), MAX_PAUSE_MS);
  return { purger, outcomes, failures, clock, flush };
}

describe('PurgeClient: requests', () => {
  it('sends PURGE /live/{event}/{path} for every path', async () => {
    const edge = await cdn();
    const { purger, flush } = client([edge.base]);
    purger.purge('news', ['video/seg_1.m4s', 'init.mp4']);
    await flush();
    expect(edge.requests.sort()).toEqual(['PURGE /live/news/init.mp4', 'PURGE /live/news/video/seg_1.m4s']);
  });

  it('sends every path to every base URL', async () => {
    const [one, two] = [await cdn(), await cdn()];
    const { purger, flush } = client([one.base, two.base]);
    purger.purge('news', ['a.m4s', 'b.m4s']);
    await flush();
    expect([one.requests.sort(), two.requests.sort()]).toEqual([
      ['PURGE /live/news/a.m4s', 'PURGE /live/news/b.m4s'],
      ['PURGE /live/news/a.m4s', 'PURGE /live/news/b.m4s'],
    ]);
  });

  it('keeps the path prefix of a base URL', async () => {
    const edge = await cdn();
    const { purger, flush } = client([`${edge.base}/cdn`]);
    purger.purge('news', ['a.m4s']);
    await flush();
    expect(edge.requests).toEqual(['PURGE /cdn/live/news/a.m4s']);
  });

  it('percent-encodes each path segment and keeps the slashes', async () => {
    const edge = await cdn();
    const { purger, flush } = client([edge.base]);
    purger.purge('news', ['a b/c%d#e?.m4s']);
    await flush();
    expect(edge.requests).toEqual(['PURGE /live/news/a%20b/c%25d%23e%3F.m4s']);
  });

  it('sends * as is to purge the whole event', async () => {
    const edge = await cdn();
    const { purger, flush } = client([edge.base]);
    purger.purge('news', ['*']);
    await flush();
    expect(edge.requests).toEqual(['PURGE /live/news/*']);
  });

  it('counts each answered purge as ok', async () => {
    const [one, two] = [await cdn(), await cdn()];
    const { purger, outcomes, flush } = client([one.base, two.base]);
    purger.purge('news', ['a.m4s', 'b.m4s']);
    await flush();
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok']);
  });
});

describe('PurgeClient: outcomes', () => {
  it('counts a 404 (nothing cached) as ok, without retrying', async () => {
    const edge = await cdn(() => 404);
    const { purger, outcomes, flush } = client([edge.base]);
    purger.purge('news', ['a.m4s']);
    await flush();
    expect([outcomes, edge.requests.length]).toEqual([['ok'], 1]);
  });

  it('retries after 500s and counts a later success as retried', async () => {
    const edge = await cdn((_, nth) => (nth <= 2 ? 500 : 200));
    const { purger, outcomes, flush } = client([edge.base], { attempts: 3 });
    purger.purge('news', ['a.m4s']);
    await flush();
    expect([outcomes, edge.requests.length]).toEqual([['retried'], 3]);
  });

  it('counts failed after every attempt fails, having made exactly that many', async () => {
    const edge = await cdn(() => 500);
    const { purger, outcomes, flush } = client([edge.base], { attempts: 3 });
    purger.purge('news', ['a.m4s']);
    await flush();
    expect([outcomes, edge.requests.length]).toEqual([['failed'], 3]);
  });

  it('tells the failed URL and the last reason', async () => {
    const edge = await cdn(() => 503);
    const { purger, failures, flush } = client([edge.base], { attempts: 2 });
    purger.purge('news', ['a.m4s']);
    await flush();
    expect(failures).toEqual([[`${edge.base}/live/news/a.m4s`, 'status 503']]);
  });

  it('counts failed when the CDN cannot be reached', async () => {
    const closed = await cdn();
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    const { purger, outcomes, failures, flush } = client([closed.base], { attempts: 2 });
    purger.purge('news', ['a.m4s']);
    await flush();
    expect([outcomes, failures.length]).toEqual([['failed'], 1]);
  });

  it('gives up on an attempt when its time limit passes on the clock, not before', async () => {
    const edge = await cdn(() => 'hang');
    const { purger, outcomes, failures, clock } = client([edge.base], { attempts: 1, timeoutMs: 50 });
    purger.purge('news', ['a.m4s']);
    await until(() => edge.requests.length === 1);
    await clock.advance(49);
    expect(outcomes).toEqual([]);
    await clock.advance(1);
    await purger.flush();
    expect(outcomes).toEqual(['failed']);
    expect(failures).toEqual([[`${edge.base}/live/news/a.m4s`, 'The operation was aborted due to timeout']]);
  });

  it('waits between attempts on the clock, doubling the pause', async () => {
    const clock = new ManualClock();
    const arrivals: number[] = [];
    const edge = await cdn(() => {
      arrivals.push(clock.now());
      return 500;
    });
    const { purger, flush } = client([edge.base], { attempts: 4, retryDelayMs: 100, clock });
    const start = clock.now();
    purger.purge('news', ['a.m4s']);
    await flush();
    expect(arrivals.map((at) => at - start)).toEqual([0, 100, 300, 700]);
  });

  it('keeps one failing base from affecting another', async () => {
    const [bad, good] = [await cdn(() => 500), await cdn()];
    const { purger, outcomes, flush } = client([bad.base, good.base], { attempts: 2 });
    purger.purge('news', ['a.m4s']);
    await flush();
    expect(outcomes.sort()).toEqual(['failed', 'ok']);
  });
});

describe('PurgeClient: queue', () => {
  it('drops and counts purges beyond the queue bound', async () => {
    const edge = await cdn();
    const { purger, outcomes, flush } = client([edge.base], { concurrency: 1, maxQueued: 2 });
    purger.purge('news', ['1.m4s', '2.m4s', '3.m4s', '4.m4s', '5.m4s']);
    await flush();
    expect(outcomes.sort()).toEqual(['dropped', 'dropped', 'dropped', 'ok', 'ok']);
  });

  it('does not send dropped purges', async () => {
    const edge = await cdn();
    const { purger, flush } = client([edge.base], { concurrency: 1, maxQueued: 2 });
    purger.purge('news', ['1.m4s', '2.m4s', '3.m4s', '4.m4s', '5.m4s']);
    await flush();
    expect(edge.requests).toEqual(['PURGE /live/news/1.m4s', 'PURGE /live/news/2.m4s']);
  });

  it('keeps at most `concurrency` purges in flight', async () => {
    const edge = await cdn(() => 200, 20);
    const { purger, flush } = client([edge.base], { concurrency: 2 });
    purger.purge('news', ['1.m4s', '2.m4s', '3.m4s', '4.m4s', '5.m4s', '6.m4s']);
    await flush();
    expect([edge.requests.length, edge.maxInFlight()]).toEqual([6, 2]);
  });
});

describe('PurgeClient: flush', () => {
  it('resolves at once with nothing queued', async () => {
    const { purger } = client(['http://127.0.0.1:9']);
    await expect(purger.flush()).resolves.toBeUndefined();
  });

  it('resolves only after every queued purge is answered', async () => {
    const edge = await cdn(() => 200, 30);
    const { purger, outcomes, flush } = client([edge.base], { concurrency: 1 });
    purger.purge('news', ['1.m4s', '2.m4s', '3.m4s']);
    await flush();
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
  });

  it('waits for retries to finish', async () => {
    const edge = await cdn((_, nth) => (nth === 1 ? 500 : 200));
    const { purger, outcomes, flush } = client([edge.base], { retryDelayMs: 30 });
    purger.purge('news', ['a.m4s']);
    await flush();
    expect(outcomes).toEqual(['retried']);
  });

  it('resolves every concurrent flush', async () => {
    const edge = await cdn(() => 200, 10);
    const { purger } = client([edge.base]);
    purger.purge('news', ['a.m4s']);
    await expect(Promise.all([purger.flush(), purger.flush()])).resolves.toEqual([undefined, undefined]);
  });
});
