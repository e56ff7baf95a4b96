import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores } from '../../runtime/adapters/aws-stores.js';
import { loadConfig } from '../../runtime/config.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/local-aws.js';

/**
 * An S3-compatible server reached by host name (not an IP address, for which the SDK picks
 * path-style itself): with AWS_ENDPOINT_URL_S3 set, the origin addresses buckets by path, since
 * such a server has no per-bucket host names. The server here records the requests it gets and
 * answers each with S3's NoSuchKey.
 */

const BUCKET = 'live-origin-path-style';

interface Seen {
  readonly url: string;
  readonly host: IncomingHttpHeaders['host'];
}

const seen: Seen[] = [];
const server = createServer((req, res) => {
  seen.push({ url: req.url ?? '', host: req.headers.host });
  res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
});
let endpoint: string;
const VARIABLES = { ...LOCAL_CREDENTIALS, AWS_ENDPOINT_URL_S3: '' };
const saved = Object.fromEntries(Object.keys(VARIABLES).map((name) => [name, process.env[name]]));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://localhost:${(server.address() as AddressInfo).port}`;
  // The SDK reads its endpoint and credentials from the environment, as on an operator's host.
  Object.assign(process.env, LOCAL_CREDENTIALS, { AWS_ENDPOINT_URL_S3: endpoint });
});

afterAll(async () => {
  // Restored in place: other test files may share this process.
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await new Promise((resolve) => server.close(resolve));
});

describe('AWS_ENDPOINT_URL_S3', () => {
  it('makes the config address buckets by path, and only then', () => {
    expect(loadConfig({ AWS_ENDPOINT_URL_S3: 'http://s3.example.internal:9000' }).s3PathStyle).toBe(true);
    expect(loadConfig({}).s3PathStyle).toBe(false);
  });

  it('reaches the stores as server.ts wires them: the bucket is in the path, the host is the endpoint', async () => {
    const config = loadConfig({ AWS_ENDPOINT_URL_S3: endpoint });
    const stores = createAwsStores(
      { bucket: BUCKET, tablePrefix: 'path-style-', region: LOCAL_REGION, peerBuckets: {}, s3PathStyle: config.s3PathStyle, memoryBytes: 1 << 20 },
      NO_OBSERVER,
    );
    try {
      seen.length = 0;
      await stores.segments.get({ event: 'ps', pipeline: 'a', path: 'v/seg_1.m4s' }).catch(() => undefined);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]).toEqual({ url: expect.stringMatching(new RegExp(`^/${BUCKET}/ps/a/v/seg_1\\.m4s`)), host: endpoint.slice('http://'.length) });
    } finally {
      await stores.close();
    }
  });
});
