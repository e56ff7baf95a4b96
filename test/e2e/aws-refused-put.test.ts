import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startLocalAws } from '../support/local-aws.js';
import { startServerProcess } from '../support/server-process.js';

it('leaves nothing of a PUT visible when its notification write fails (503 with Retry-After)', async () => {
  const local = await startLocalAws();
  const target = new URL(local.env.AWS_ENDPOINT_URL_DYNAMODB);
  // DynamoDB stand-in that fails (HTTP 500) every UpdateItem of an event's notify item.
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (String(req.headers['x-amz-target']).endsWith('UpdateItem') && body.includes('"sk":{"S":"notify"}')) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }));
        return;
      }
      const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const origin = await startServerProcess({
    ...local.originEnv('repro-token-0123456789'),
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  });
  try {
    const auth = { authorization: 'Bearer repro-token-0123456789' };
    expect((await fetch(`${origin.url}/ingest/ev/a/init.mp4`, { method: 'PUT', headers: auth, body: 'init' })).status).toBe(201);
    const put = await fetch(`${origin.url}/ingest/ev/a/v/seg_1.m4s`, {
      method: 'PUT',
      headers: { ...auth, 'live-notify-alert': 'x' },
      body: 'not acknowledged',
    });
    const get = await fetch(`${origin.url}/live/ev/v/seg_1.m4s`);
    expect(put.status).toBe(503);
    expect(put.headers.get('retry-after')).toBe('1');
    expect(get.status).not.toBe(200);
    expect(await get.text()).not.toContain('not acknowledged');
  } finally {
    await origin.stop();
    proxy.close();
    await local.stop();
  }
}, 30_000);
