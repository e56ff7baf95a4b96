import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchPublisher } from '../../runtime/adapters/cloudwatch-publisher.js';
import { METRIC_NAMES, METRIC_NAMESPACE, METRIC_REGION_DIMENSION } from '../../runtime/aws-contract.js';
import type { AlarmSnapshot } from '../../runtime/ports/alarm-signals.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/until.js';

interface Datum {
  name: string;
  value: number;
  unit: string;
  dimensions: { Name: string; Value: string }[];
  /** Epoch ms. */
  timestamp: number;
  /** A list of samples with their counts, instead of one value. */
  values?: number[];
  counts?: number[];
}

interface Received {
  target: string | undefined;
  namespace: string;
  data: Datum[];
}

/**
 * A stand-in for the CloudWatch endpoint: it decodes the SDK's real PutMetricData request
 * (JSON protocol in this SDK version; query protocol in older ones) and answers success or 500.
 */
let server: Server;
let endpoint: string;
const received: Received[] = [];
let failNext = 0;

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
}

function decode(request: IncomingMessage, text: string): Received {
  if (String(request.headers['content-type']).includes('x-www-form-urlencoded')) {
    const form = new URLSearchParams(text);
    const data: Datum[] = [];
    for (let i = 1; form.has(`MetricData.member.${i}.MetricName`); i++) {
      const field = (name: string) => form.get(`MetricData.member.${i}.${name}`) ?? '';
      const dimensions = [];
      for (let d = 1; form.has(`MetricData.member.${i}.Dimensions.member.${d}.Name`); d++) {
        dimensions.push({ Name: field(`Dimensions.member.${d}.Name`), Value: field(`Dimensions.member.${d}.Value`) });
      }
      data.push({ name: field('MetricName'), value: Number(field('Value')), unit: field('Unit'), dimensions, timestamp: Date.parse(field('Timestamp')) });
    }
    return { target: form.get('Action') ?? undefined, namespace: form.get('Namespace') ?? '', data };
  }
  const json = JSON.parse(text) as {
    Namespace: string;
    MetricData: {
      MetricName: string;
      Value: number;
      Values?: number[];
      Counts?: number[];
      Unit: string;
      Dimensions: { Name: string; Value: string }[];
      /** Epoch seconds (the JSON protocol's timestamps). */
      Timestamp: number;
    }[];
  };
  return {
    target: request.headers['x-amz-target'] as string | undefined,
    namespace: json.Namespace,
    data: json.MetricData.map((d) => ({
      name: d.MetricName,
      value: d.Value,
      unit: d.Unit,
      dimensions: d.Dimensions,
      timestamp: d.Timestamp * 1000,
      values: d.Values,
      counts: d.Counts,
    })),
  };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void body(request).then((text) => {
      if (failNext > 0) {
        failNext--;
        response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end('{"__type":"InternalServiceError","message":"boom"}');
        return;
      }
      received.push(decode(request, text));
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  failNext = 0;
});

const zero: AlarmSnapshot = {
  requests: 0,
  serverErrors: 0,
  ingests: 0,
  defects: 0,
  holdTimeouts: 0,
  storeFaults: 0,
  served: 0,
  unserved: 0,
  peerCopyFailures: 0,
  unhealthyPipelines: 0,
  peerCopyLagMsMax: 0,
  peerCopyBacklogMax: 0,
};

function publisher(snapshots: AlarmSnapshot[], intervalMs?: number, clock = new ManualClock()) {
  const client = new CloudWatchClient({
    region: 'eu-west-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const failures: unknown[] = [];
  let i = 0;
  const signals = { snapshot: () => snapshots[Math.min(i++, snapshots.length - 1)]! };
  return { failures, cloudwatch: new CloudWatchPublisher({ client, signals, region: 'eu-west-1', intervalMs, clock, onFailure: (e) => failures.push(e) }) };
}

function values(request: Received): Record<string, number> {
  return Object.fromEntries(request.data.filter((d) => d.values === undefined).map((d) => [d.name, d.value]));
}

/** The UnservedPercent datum as CloudWatch would aggregate it: Average and SampleCount. */
function unserved(request: Received): { average: number; samples: number } | undefined {
  const datum = request.data.find((d) => d.name === METRIC_NAMES.unservedPercent);
  if (!datum) return undefined;
  const samples = datum.counts!.reduce((sum, count) => sum + count, 0);
  const total = datum.values!.reduce((sum, value, index) => sum + value * datum.counts![index]!, 0);
  return { average: total / samples, samples };
}

describe('CloudWatchPublisher', () => {
  it('sends one PutMetricData with the contract namespace, names, Region dimension and the increases', async () => {
    const { cloudwatch } = publisher([
      {
        ...zero,
        requests: 120,
        serverErrors: 3,
        ingests: 40,
        defects: 2,
        holdTimeouts: 1,
        storeFaults: 0,
        unhealthyPipelines: 1,
        peerCopyLagMsMax: 180,
        served: 110,
        unserved: 1,
        peerCopyFailures: 2,
        peerCopyBacklogMax: 7,
      },
      {
        ...zero,
        requests: 200,
        serverErrors: 3,
        ingests: 70,
        defects: 2,
        holdTimeouts: 4,
        storeFaults: 5,
        unhealthyPipelines: 0,
        peerCopyLagMsMax: 90,
        served: 190,
        unserved: 41,
        peerCopyFailures: 2,
        peerCopyBacklogMax: 0,
      },
    ]);
    await cloudwatch.flush();
    await cloudwatch.flush();
    await cloudwatch.close();
    expect(received.length).toBeGreaterThanOrEqual(2);
    const [first, second] = received;
    expect(first!.target ?? '').toMatch(/PutMetricData$/);
    expect(first!.namespace).toBe(METRIC_NAMESPACE);
    expect(first!.data.map((d) => d.name).sort()).toEqual(Object.values(METRIC_NAMES).sort());
    for (const datum of first!.data) expect(datum.dimensions).toEqual([{ Name: METRIC_REGION_DIMENSION, Value: 'eu-west-1' }]);
    expect(first!.data.find((d) => d.name === METRIC_NAMES.peerCopyLagMs)?.unit).toBe('Milliseconds');
    expect(values(first!)).toEqual({
      Requests: 120,
      ServerErrors: 3,
      Ingests: 40,
      Defects: 2,
      HoldTimeouts: 1,
      StoreFaults: 0,
      UnhealthyPipelines: 1,
      PeerCopyLagMs: 180,
      PeerCopyFailures: 2,
      PeerCopyBacklog: 7,
    });
    expect(unserved(first!)).toEqual({ average: 100 / 110, samples: 110 });
    expect(values(second!)).toEqual({
      Requests: 80,
      ServerErrors: 0,
      Ingests: 30,
      Defects: 0,
      HoldTimeouts: 3,
      StoreFaults: 5,
      UnhealthyPipelines: 0,
      PeerCopyLagMs: 90,
      PeerCopyFailures: 0,
      PeerCopyBacklog: 0,
    });
    // 80 requests this period, 40 of them not served.
    expect(unserved(second!)).toEqual({ average: 50, samples: 80 });
  });

  it('sends no UnservedPercent for a period without requests (a gap, not a zero ratio)', async () => {
    const { cloudwatch } = publisher([
      { ...zero, served: 5 },
      { ...zero, served: 5 },
      { ...zero, served: 9, unserved: 9 },
    ]);
    await cloudwatch.flush();
    await cloudwatch.flush();
    await cloudwatch.flush();
    await cloudwatch.close();
    expect(received.slice(0, 3).map(unserved)).toEqual([{ average: 0, samples: 5 }, undefined, { average: 100, samples: 4 }]);
  });

  it('never throws on a failed send, counts it, and carries its increases into the next send', async () => {
    const { cloudwatch, failures } = publisher([
      { ...zero, requests: 10, peerCopyLagMsMax: 500 },
      { ...zero, requests: 25, peerCopyLagMsMax: 20 },
    ]);
    failNext = 1;
    await expect(cloudwatch.flush()).resolves.toBeUndefined();
    expect(cloudwatch.failures).toBe(1);
    expect(failures).toHaveLength(1);
    await cloudwatch.flush();
    expect(values(received[0]!)).toMatchObject({ Requests: 25, PeerCopyLagMs: 500 });
    await cloudwatch.close();
  });

  it('publishes once a period on its clock, dated by it, and flushes the last period on close', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const { cloudwatch } = publisher(
      [
        { ...zero, ingests: 1 },
        { ...zero, ingests: 2 },
        { ...zero, ingests: 3 },
        { ...zero, ingests: 9 },
      ],
      60_000,
      clock,
    );
    cloudwatch.start();
    await clock.advance(59_999);
    expect(cloudwatch.sends).toBe(0);
    // Each period's send, waited for as it happens (not for a time it should take).
    for (const period of [1, 2]) {
      await clock.advance(period === 1 ? 1 : 60_000);
      await until(() => cloudwatch.sends === period);
    }
    await cloudwatch.close();
    expect(received.map((request) => values(request).Ingests)).toEqual([1, 1, 1]);
    expect(received.map((request) => request.data[0]!.timestamp - start)).toEqual([60_000, 120_000, 120_000]);
  });
});
