import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudFrontPurger, type CloudFrontPurgerOptions, type InvalidationOutcome } from '../../runtime/adapters/cloudfront-purger.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/until.js';

/**
 * No CloudFront emulator exists (LocalStack's is a paid feature; nothing runs offline here), so
 * the purger runs the real SDK against a loopback server standing in for the CloudFront
 * endpoint, and each test checks the wire request: method, path, XML body, caller reference.
 */

interface Received {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly paths: string[];
  readonly quantity: number;
  readonly callerReference: string;
  /** Arrival time on the purger's (fake) clock, ms since the epoch. */
  readonly at: number;
}

const DISTRIBUTION = 'E2QWRUHEXAMPLE';
let server: Server;
let endpoint: string;
const received: Received[] = [];
/** Answers for the next requests, in order; empty means 201. */
let answers: (number | 'TooMany')[] = [];
/** The purger's clock in the test under way: its windows and pauses pass only when the test moves it. */
let clock = new ManualClock();
/** Pauses and batch windows in these tests are at most this long; a call's time limit is longer. */
const MAX_PAUSE_MS = 1_000;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function tag(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((match) => match[1]!);
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const at = clock.now();
    void readBody(request).then((xml) => {
      received.push({
        at,
        method: request.method ?? '',
        path: request.url ?? '',
        authorization: String(request.headers.authorization ?? ''),
        paths: tag(xml, 'Path'),
        quantity: Number(tag(xml, 'Quantity')[0]),
        callerReference: tag(xml, 'CallerReference')[0] ?? '',
      });
      const answer = answers.shift() ?? 201;
      if (answer === 'TooMany') {
        response
          .writeHead(400, { 'content-type': 'text/xml' })
          .end(errorXml('TooManyInvalidationsInProgress', 'Your request contains too many invalidations.'));
        return;
      }
      if (answer !== 201) {
        response.writeHead(answer, { 'content-type': 'text/xml' }).end(errorXml('ServiceUnavailable', 'try later'));
        return;
      }
      response
        .writeHead(201, { 'content-type': 'text/xml', location: `${endpoint}/2020-05-31/distribution/${DISTRIBUTION}/invalidation/I1` })
        .end(
          `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I1</Id>` +
            `<Status>InProgress</Status><CreateTime>2026-01-01T00:00:00Z</CreateTime>${xml.replace(/<\?xml[^>]*>/, '')}</Invalidation>`,
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  answers = [];
  clock = new ManualClock();
});

function purger(options: Partial<CloudFrontPurgerOptions> = {}) {
  const client = new CloudFrontClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  const outcomes: Partial<Record<InvalidationOutcome, number>> = {};
  const failures: [string, readonly string[]][] = [];
  const cloudfront = new CloudFrontPurger({
    client,
    distributionId: DISTRIBUTION,
    onOutcome: (outcome, paths) => {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + paths;
    },
    onFailure: (reason, paths) => failures.push([reason, paths]),
    batchWindowMs: 30,
    retryDelayMs: 5,
    callTimeoutMs: 5_000,
    clock,
    ...options,
  });
  /** `flush`, with its pauses between attempts run on the fake clock. */
  const flush = () => clock.runPauses(cloudfront.flush(), MAX_PAUSE_MS);
  return { cloudfront, outcomes, failures, flush };
}

describe('CloudFrontPurger: the wire request', () => {
  it('POSTs one signed CreateInvalidation for the distribution with the purged paths', async () => {
    const { cloudfront, outcomes } = purger();
    cloudfront.purge('news-1', ['video/720p/seg_000123.m4s', 'video/720p/index.m3u8']);
    await cloudfront.close();
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/2020-05-31/distribution/${DISTRIBUTION}/invalidation`);
    expect(request!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/cloudfront\/aws4_request/);
    expect(request!.paths.sort()).toEqual(['/live/news-1/video/720p/index.m3u8', '/live/news-1/video/720p/seg_000123.m4s']);
    expect(request!.quantity).toBe(2);
    expect(request!.callerReference).toMatch(/^live-origin-[0-9a-f-]{36}$/);
    expect(outcomes).toEqual({ ok: 2 });
  });

  it('turns a whole-event purge into the event wildcard', async () => {
    const { cloudfront, flush } = purger();
    cloudfront.purge('news-1', ['*']);
    await flush();
    expect(received.map((r) => r.paths)).toEqual([['/live/news-1/*']]);
  });

  it('gives every invalidation its own caller reference', async () => {
    const { cloudfront, flush } = purger();
    cloudfront.purge('a', ['x.m4s']);
    await flush();
    cloudfront.purge('a', ['y.m4s']);
    await flush();
    expect(received).toHaveLength(2);
    expect(received[0]!.callerReference).not.toBe(received[1]!.callerReference);
  });
});

describe('CloudFrontPurger: batching', () => {
  it('collects purges within the window into one invalidation, without duplicates, and sends it when the window ends', async () => {
    const { cloudfront } = purger({ batchWindowMs: 1_000 });
    const start = clock.now();
    cloudfront.purge('news-1', ['seg_1.m4s']);
    await clock.advance(999);
    cloudfront.purge('news-1', ['seg_1.m4s', 'seg_2.m4s']);
    cloudfront.purge('news-2', ['seg_1.m4s']);
    // One window, opened by the first purge and not moved by the later ones; it ends without a flush.
    expect(clock.nextTimerAt()).toBe(start + 1_000);
    await clock.advance(1);
    await until(() => received.length > 0);
    await cloudfront.close();
    expect(received).toHaveLength(1);
    expect(received[0]!.at - start).toBe(1_000);
    expect(received[0]!.paths.sort()).toEqual(['/live/news-1/seg_1.m4s', '/live/news-1/seg_2.m4s', '/live/news-2/seg_1.m4s']);
  });

  it('lets a pending event wildcard cover that event’s paths, before and after it', async () => {
    const { cloudfront, flush } = purger();
    cloudfront.purge('news-1', ['seg_1.m4s', 'seg_2.m4s']);
    cloudfront.purge('news-1', ['*']);
    cloudfront.purge('news-1', ['seg_3.m4s']);
    cloudfront.purge('news-2', ['seg_9.m4s']);
    await flush();
    expect(received).toHaveLength(1);
    expect(received[0]!.paths).toEqual(['/live/news-1/*', '/live/news-2/seg_9.m4s']);
  });

  it('folds one event’s paths into its wildcard when there are more than it costs', async () => {
    const { cloudfront, outcomes, flush } = purger({ wildcardAbove: 3 });
    cloudfront.purge('news-1', ['1.m4s', '2.m4s', '3.m4s', '4.m4s', '5.m4s']);
    await flush();
    expect(received.map((r) => r.paths)).toEqual([['/live/news-1/*']]);
    expect(outcomes).toEqual({ collapsed: 4, ok: 1 });
  });

  it('splits a backlog into invalidations of at most the per-request limit, one at a time', async () => {
    const { cloudfront, outcomes, flush } = purger({ maxPathsPerInvalidation: 2, wildcardAbove: 100 });
    cloudfront.purge('news-1', ['1.m4s', '2.m4s', '3.m4s', '4.m4s', '5.m4s']);
    await flush();
    expect(received.map((r) => r.quantity)).toEqual([2, 2, 1]);
    expect(new Set(received.flatMap((r) => r.paths)).size).toBe(5);
    expect(outcomes).toEqual({ ok: 5 });
  });

  it('counts a repeated path once against the backlog', async () => {
    const { cloudfront, outcomes, flush } = purger({ maxPendingPaths: 2, wildcardAbove: 100 });
    for (let i = 0; i < 5; i++) cloudfront.purge('news-1', ['1.m4s']);
    cloudfront.purge('news-1', ['2.m4s']);
    await flush();
    expect(received.map((r) => r.paths.sort())).toEqual([['/live/news-1/1.m4s', '/live/news-1/2.m4s']]);
    expect(outcomes).toEqual({ ok: 2 });
  });

  it('drops (and counts) paths past the bounded backlog', async () => {
    const { cloudfront, outcomes, flush } = purger({ maxPendingPaths: 3, wildcardAbove: 100 });
    cloudfront.purge('news-1', ['1.m4s', '2.m4s', '3.m4s', '4.m4s']);
    cloudfront.purge('news-2', ['*']);
    await flush();
    expect(received.map((r) => r.quantity)).toEqual([3]);
    expect(outcomes).toEqual({ dropped: 2, ok: 3 });
  });
});

describe('CloudFrontPurger: errors and backoff', () => {
  it('retries TooManyInvalidationsInProgress with the same caller reference and counts the paths as retried', async () => {
    const { cloudfront, outcomes, failures, flush } = purger();
    answers = ['TooMany', 503];
    cloudfront.purge('news-1', ['seg_1.m4s']);
    await flush();
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.callerReference)).size).toBe(1);
    expect(outcomes).toEqual({ retried: 1 });
    expect(failures).toEqual([]);
  });

  it('backs off, doubling the delay, up to the cap', async () => {
    const { cloudfront, flush } = purger({ retryDelayMs: 40, maxRetryDelayMs: 60, attempts: 5 });
    answers = [503, 503, 503, 503];
    cloudfront.purge('news-1', ['seg_1.m4s']);
    await flush();
    const times = received.map((r) => r.at);
    // 40, then 80, 160 and 320, each capped to 60: exact, on the purger's clock.
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([40, 60, 60, 60]);
  });

  it('gives up after the attempts, reports the error with the paths, and never throws', async () => {
    const { cloudfront, outcomes, failures, flush } = purger({ attempts: 2 });
    answers = ['TooMany', 'TooMany'];
    cloudfront.purge('news-1', ['seg_1.m4s', 'seg_2.m4s']);
    await expect(flush()).resolves.toBeUndefined();
    expect(received).toHaveLength(2);
    expect(outcomes).toEqual({ failed: 2 });
    expect(failures).toHaveLength(1);
    expect(failures[0]![0]).toContain('TooManyInvalidationsInProgress');
    expect([...failures[0]![1]].sort()).toEqual(['/live/news-1/seg_1.m4s', '/live/news-1/seg_2.m4s']);
  });

  it('keeps collecting while an invalidation is being retried, and sends the rest after it', async () => {
    const { cloudfront, flush } = purger({ retryDelayMs: 60 });
    answers = [503];
    cloudfront.purge('news-1', ['seg_1.m4s']);
    // The window ends; once the invalidation has gone out and been refused, it waits for its
    // retry, which only the clock brings: what is purged meanwhile is collected.
    await clock.advance(30);
    await until(() => received.length === 1 && clock.nextTimerAt() === clock.now() + 60);
    cloudfront.purge('news-1', ['seg_2.m4s']);
    await flush();
    expect(received.map((r) => r.paths)).toEqual([['/live/news-1/seg_1.m4s'], ['/live/news-1/seg_1.m4s'], ['/live/news-1/seg_2.m4s']]);
  });
});
