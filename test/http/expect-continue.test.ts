import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, startOrigin, TOKEN } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const BASIC = { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` };

interface Exchange {
  /** What the client saw, in order: `continue` (the interim 100) and `response <status>`. */
  readonly seen: string[];
  readonly challenges: string[];
  readonly body: string;
}

/**
 * A client that does what `Expect: 100-continue` asks of it (as ffmpeg does): sends the head,
 * holds the body back until 100 Continue, and never sends it if a final answer comes first.
 */
function putExpectingContinue(path: string, headers: Record<string, string>, body: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const request = http.request(`${origin.url}${path}`, {
      method: 'PUT',
      headers: { expect: '100-continue', 'content-length': String(Buffer.byteLength(body)), ...headers },
    });
    request.once('continue', () => {
      seen.push('continue');
      request.end(body);
    });
    request.once('response', (response) => {
      seen.push(`response ${response.statusCode}`);
      const challenges = response.rawHeaders.filter((_, i) => i % 2 === 1 && response.rawHeaders[i - 1]!.toLowerCase() === 'www-authenticate');
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.once('end', () => {
        request.destroy();
        resolve({ seen, challenges, body: text });
      });
    });
    request.once('error', reject);
    request.flushHeaders();
  });
}

describe('Expect: 100-continue', () => {
  it('answers 401 with the Basic challenge before asking for the body of an unauthenticated PUT', async () => {
    const exchange = await putExpectingContinue('/ingest/ex-1/a/v/seg_1.m4s', {}, 'never sent');
    expect(exchange.seen).toEqual(['response 401']);
    expect(exchange.challenges).toEqual(['Bearer', 'Basic realm="live-origin"']);
    expect((await fetch(`${origin.url}/ingest/ex-1/a/v/seg_1.m4s`, { headers: AUTH })).status).toBe(404);
  });

  it('sends 100 Continue once the credentials pass, and stores the body that follows', async () => {
    const exchange = await putExpectingContinue('/ingest/ex-2/a/v/seg_1.m4s', BASIC, 'after the 100');
    expect(exchange.seen).toEqual(['continue', 'response 201']);
    expect(await (await fetch(`${origin.url}/ingest/ex-2/a/v/seg_1.m4s`, { headers: AUTH })).text()).toBe('after the 100');
  });

  it('refuses an object over the size limit by its Content-Length, before the body (413)', async () => {
    const exchange = await putExpectingContinue('/ingest/ex-3/a/v/seg_1.m4s', { ...BASIC, 'content-length': String(64 * 1024 * 1024) }, '');
    expect(exchange.seen).toEqual(['response 413']);
  });

  it('asks for a JSON body the control plane parses before its token check, then checks the token', async () => {
    const config = JSON.stringify({ pipelines: ['b', 'a'] });
    const granted = await putExpectingContinue('/admin/events/ex-4', { ...BASIC, 'content-type': 'application/json' }, config);
    expect(granted.seen).toEqual(['continue', 'response 201']);
    const refused = await putExpectingContinue('/admin/events/ex-5', { 'content-type': 'application/json' }, config);
    expect(refused.seen).toEqual(['continue', 'response 401']);
  });
});
