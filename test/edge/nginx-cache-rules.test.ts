import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Nginx } from '../support/nginx.js';
import { nginxInstalled, startNginx } from '../support/nginx.js';
import { describeWithTools } from '../support/tools.js';

// CI installs nginx (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!nginxInstalled() && 'nginx (apt-get install nginx)']);

/**
 * The shipped nginx configuration's cache key, lifetime, CMSD and PURGE rules, in front of a
 * loopback server standing in for an origin (it records what reaches it and answers with the
 * headers each case needs).
 */
run('the shipped nginx configuration: cache keys, lifetimes, CMSD, who may purge (docs/cdn/nginx-edge.conf)', () => {
  let edge: Nginx;
  let backend: http.Server;
  const seen: string[] = [];
  let answer: (url: string) => { status: number; headers: Record<string, string> } = () => ({ status: 200, headers: {} });

  beforeAll(async () => {
    backend = http.createServer((req, res) => {
      seen.push(req.url!);
      const { status, headers } = answer(req.url!);
      res.writeHead(status, headers);
      res.end(req.url);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    edge = await startNginx(`http://127.0.0.1:${(backend.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await edge?.stop();
    await new Promise((resolve) => backend?.close(resolve));
  });

  it('keys a playlist on _HLS_msn and _HLS_part only, in one order, and drops other parameters', async () => {
    seen.length = 0;
    answer = () => ({ status: 200, headers: { 'Cache-Control': 'public, max-age=10' } });
    const first = await fetch(`${edge.url}/live/q/v/index.m3u8?_HLS_part=2&session=abc&_HLS_msn=273`);
    expect(await first.text()).toBe('/live/q/v/index.m3u8?_HLS_msn=273&_HLS_part=2');
    const second = await fetch(`${edge.url}/live/q/v/index.m3u8?_HLS_msn=273&_HLS_part=2&_HLS_skip=YES`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    const other = await fetch(`${edge.url}/live/q/v/index.m3u8?_HLS_msn=273&_HLS_part=3`);
    expect(other.headers.get('x-cache')).toBe('MISS');
    const plain = await fetch(`${edge.url}/live/q/v/seg_1.m4s?token=x&utm=y`);
    expect(await plain.text()).toBe('/live/q/v/seg_1.m4s');
    expect(seen).toEqual(['/live/q/v/index.m3u8?_HLS_msn=273&_HLS_part=2', '/live/q/v/index.m3u8?_HLS_msn=273&_HLS_part=3', '/live/q/v/seg_1.m4s']);
  });

  it('passes _HLS_part without _HLS_msn on, so the origin can refuse it', async () => {
    answer = () => ({ status: 400, headers: {} });
    const res = await fetch(`${edge.url}/live/q/v/index.m3u8?_HLS_part=1`);
    expect(await res.text()).toBe('/live/q/v/index.m3u8?_HLS_part=1');
  });

  it('caches what Cache-Control allows in whole seconds, any status, and nothing under a second', async () => {
    seen.length = 0;
    answer = (url) => ({
      status: url.includes('404') ? 404 : 200,
      headers: { 'Cache-Control': url.includes('short') ? 'public, max-age=0' : 'public, max-age=5' },
    });
    for (const path of ['seg_404.m4s', 'short_1.m4s']) for (let i = 0; i < 2; i++) await (await fetch(`${edge.url}/live/t/v/${path}`)).arrayBuffer();
    expect(seen).toEqual(['/live/t/v/seg_404.m4s', '/live/t/v/short_1.m4s', '/live/t/v/short_1.m4s']);
  });

  it('passes CMSD-Dynamic on with the fill, and never replays it from cache', async () => {
    answer = () => ({ status: 200, headers: { 'Cache-Control': 'public, max-age=10', 'CMSD-Static': 'ot=v,st=l', 'CMSD-Dynamic': '"live-origin";du' } });
    const fill = await fetch(`${edge.url}/live/q/v/seg_20.m4s`);
    expect(fill.headers.get('cmsd-dynamic')).toBe('"live-origin";du');
    const hit = await fetch(`${edge.url}/live/q/v/seg_20.m4s`);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('cmsd-dynamic')).toBeNull();
    expect(hit.headers.get('cmsd-static')).toBe('ot=v,st=l');
  });

  it('takes PURGE from the purge clients only, and answers nothing but delivery', async () => {
    answer = () => ({ status: 200, headers: { 'Cache-Control': 'public, max-age=10' } });
    await fetch(`${edge.url}/live/p/v/seg_1.m4s`);
    const { port } = new URL(edge.url);
    for (const path of ['/live/p/v/seg_1.m4s', '/live/p/*']) {
      // From another loopback address: not one of the purge clients.
      const status = await new Promise<number>((resolve, reject) => {
        http
          .request({ host: '127.0.0.1', port, path, method: 'PURGE', localAddress: '127.0.0.2' }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(403);
    }
    expect((await fetch(`${edge.url}/live/p/v/seg_1.m4s`)).headers.get('x-cache')).toBe('HIT');
    expect((await fetch(`${edge.url}/live/p/v/seg_1.m4s`, { method: 'PURGE' })).status).toBe(200);
    expect((await fetch(`${edge.url}/live/p/v/seg_1.m4s`)).headers.get('x-cache')).toBe('MISS');
    for (const path of ['/ingest/p/a/v/seg_1.m4s', '/admin/events/p', '/metrics']) expect((await fetch(`${edge.url}${path}`)).status).toBe(404);
  });
});
