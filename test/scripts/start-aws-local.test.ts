import { afterEach, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

const TOKEN = 'local-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const ENTRY = 'scripts/start-aws-local.ts';

const running: ServerProcess[] = [];
afterEach(async () => {
  for (const server of running.splice(0).reverse()) await server.stop();
});

describe('npm run start:aws-local', () => {
  it('starts local stores and the origin in aws mode; a second origin on the same stores sees the first one', async () => {
    const first = await startServerProcess({ LIVE_ORIGIN_TOKENS: `${TOKEN}=*` }, ENTRY);
    running.push(first);
    expect(first.output()).toContain('(store: aws)');
    const s3 = /local S3 \(s3rver\) on (\S+)/.exec(first.output())?.[1];
    const dynamoDb = /local DynamoDB \(dynalite\) on (\S+)/.exec(first.output())?.[1];
    expect(s3).toBeTruthy();
    expect(dynamoDb).toBeTruthy();

    const put = await fetch(`${first.url}/ingest/local/a/v/seg_1.m4s`, { method: 'PUT', headers: AUTH, body: 'shared bytes' });
    expect(put.status).toBe(201);

    // With the endpoints given, it starts no servers and only creates what is missing.
    const second = await startServerProcess(
      {
        LIVE_ORIGIN_TOKENS: `${TOKEN}=*`,
        AWS_ENDPOINT_URL_S3: s3!,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoDb!,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      },
      ENTRY,
    );
    running.push(second);
    expect(second.output()).not.toContain('local S3 (s3rver) on');
    const got = await fetch(`${second.url}/live/local/v/seg_1.m4s`);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('shared bytes');
  }, 60_000);

  it('stops the local stores and exits 0 when the origin drains on SIGTERM', async () => {
    const server = await startServerProcess({ LIVE_ORIGIN_TOKENS: `${TOKEN}=*` }, ENTRY);
    expect(await server.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
