import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegions } from '../../scripts/local/local-regions.js';
import { startLocalRegions } from '../../scripts/local/local-regions.js';
import { eventually } from '../support/origin.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

const TOKEN = 'regions-token-0123456789';
/** Generous limits for what must happen, not bounds under test: a busy 2-core host can stall the local servers for seconds. */
const READY_WITHIN_MS = 15_000;
const COPY_WITHIN_MS = 15_000;

let local: LocalRegions;
let origins: ServerProcess[] = [];

beforeAll(async () => {
  local = await startLocalRegions();
  origins = await Promise.all([startServerProcess(local.originEnv(0, TOKEN)), startServerProcess(local.originEnv(1, TOKEN))]);
}, 60_000);

afterAll(async () => {
  await Promise.all(origins.map((origin) => origin.stop('SIGKILL')));
  await local?.stop();
});

describe('two local regions, each on its own S3 server (scripts/local/local-regions.ts)', () => {
  it('answers HeadBucket (the readiness ping) without listing the bucket', async () => {
    const { s3, bucket } = local.regions[1];
    expect((await fetch(`${s3.endpoint}/${bucket}`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${s3.endpoint}/no-such-bucket`, { method: 'HEAD' })).status).toBe(404);
    // Ready once a ping was answered: on a busy host a ping may miss readiness's 900 ms budget
    // and /readyz say 503 for a moment, so the check waits for an answer, not for a moment.
    for (const origin of origins) await eventually(async () => expect((await fetch(`${origin.url}/readyz`)).status).toBe(200), READY_WITHIN_MS);
  });

  it("copies region 1's segment to region 2's server, which serves it after region 1 is killed", async () => {
    const [region1, region2] = origins as [ServerProcess, ServerProcess];
    const put = await fetch(`${region1.url}/ingest/twins/a/v/seg_1.m4s`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: 'region one bytes',
    });
    expect(put.status).toBe(201);
    const s3 = new S3Client({ region: local.regions[1].region, endpoint: local.regions[1].s3.endpoint, forcePathStyle: true });
    try {
      let copy: string | undefined;
      for (const deadline = Date.now() + COPY_WITHIN_MS; copy === undefined && Date.now() < deadline; ) {
        try {
          const object = await s3.send(new GetObjectCommand({ Bucket: local.regions[1].bucket, Key: 'twins/a/v/seg_1.m4s' }));
          copy = await object.Body!.transformToString();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      expect(copy).toBe('region one bytes');
    } finally {
      s3.destroy();
    }
    // Region 1 goes dark, its S3 server too: region 2 can only serve its own copy.
    await region1.stop('SIGKILL');
    await local.regions[0].s3.stop();
    const served = await fetch(`${region2.url}/live/twins/v/seg_1.m4s`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('region one bytes');
  }, 30_000);
});
