import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { startVarnish, varnishInstalled } from '../support/varnish.js';

// CI installs Varnish (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!varnishInstalled() && 'varnish (apt-get install varnish)']);

/**
 * The shipped VCL's query and CMSD rules, in front of a loopback server standing in for an
 * origin (it records what reaches it and answers with the headers each case needs).
 */
run('the shipped VCL: blocking-reload cache keys and CMSD (docs/cdn/live-origin.vcl)', () => {
  let edge: Varnish;
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
    edge = await startVarnish(`http://127.0.0.1:${(backend.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await edge?.stop();
    await new Promise((resolve) => backend?.close(resolve));
  });

  it('keys a playlist on _HLS_msn and _HLS_part only, in one order, and drops other parameters', async () => {
    answer = () => ({ status: 200, headers: { 'Live-TTL-Ms': '10000' } });
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

  it('caches a 404 until its CMSD availability time when the origin sends no Live-TTL-Ms', async () => {
    // A HIT is only owed to a request answered before `at`: on a host that stalled past it
    // between the two requests, the check starts again on a fresh path.
    let judged = 0;
    for (let n = 9; n <= 11 && judged === 0; n++) {
      const at = Date.now() + 1500;
      answer = () => ({ status: 404, headers: { 'CMSD-Static': `ot=v,st=l,at=${at}` } });
      expect((await fetch(`${edge.url}/live/q/v/seg_${n}.m4s`)).status).toBe(404);
      const again = await fetch(`${edge.url}/live/q/v/seg_${n}.m4s`);
      if (Date.now() >= at) continue;
      expect(again.headers.get('x-cache')).toBe('HIT');
      await new Promise((resolve) => setTimeout(resolve, at - Date.now() + 200));
      expect((await fetch(`${edge.url}/live/q/v/seg_${n}.m4s`)).headers.get('x-cache')).toBe('MISS');
      judged = n;
    }
    expect(judged).toBeGreaterThan(0);
  });

  it('passes CMSD-Dynamic on with the fill, and never replays it from cache', async () => {
    answer = () => ({ status: 200, headers: { 'Live-TTL-Ms': '10000', 'CMSD-Static': 'ot=v,st=l', 'CMSD-Dynamic': '"live-origin";du' } });
    const fill = await fetch(`${edge.url}/live/q/v/seg_20.m4s`);
    expect(fill.headers.get('cmsd-dynamic')).toBe('"live-origin";du');
    const hit = await fetch(`${edge.url}/live/q/v/seg_20.m4s`);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('cmsd-dynamic')).toBeNull();
    expect(hit.headers.get('cmsd-static')).toBe('ot=v,st=l');
  });
});
