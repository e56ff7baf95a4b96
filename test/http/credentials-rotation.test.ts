/**
 * Rotation without an outage: the origin reads its tokens and CDN secrets from a file it re-reads
 * (as the instance's credentials timer keeps it fresh), so a revoked token stops working and a
 * new CDN secret is accepted beside the old one, with no restart.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsFile } from '../../runtime/adapters/credentials-file.js';
import { ManualClock } from '../support/manual-clock.js';
import type { TestOrigin } from '../support/origin.js';
import { startOrigin } from '../support/origin.js';
import { until } from '../support/until.js';

const OLD_TOKEN = 'old-token-0123456789';
const NEW_TOKEN = 'new-token-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'live-origin-credentials-'));
const file = join(dir, 'credentials.json');

/** Replaces the file as the instance's timer does: a whole new file, renamed over the old one. */
function write(credentials: Record<string, string>): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(credentials));
  renameSync(`${file}.tmp`, file);
}

let origin: TestOrigin;
let source: CredentialsFile;
const changes: number[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  write({ LIVE_ORIGIN_TOKENS: `${OLD_TOKEN}=*`, LIVE_ORIGIN_CDN_SECRET: 'cdn-old' });
  source = new CredentialsFile(file, { onChange: () => changes.push(Date.now()), onError: (error) => errors.push(error) });
  origin = await startOrigin({ credentials: source });
});
afterAll(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

const ingest = (token: string, n: number) =>
  fetch(`${origin.url}/ingest/rot-1/a/v/seg_${n}.m4s`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
    body: 'x',
  });
const deliver = (secret: string | undefined, n: number) =>
  fetch(`${origin.url}/live/rot-1/v/seg_${n}.m4s`, { headers: secret ? { 'live-cdn-auth': secret } : {} });

describe('credentials read again from a file', () => {
  it('start with the file as it is', async () => {
    expect((await ingest(OLD_TOKEN, 1)).status).toBe(201);
    expect((await ingest(NEW_TOKEN, 2)).status).toBe(401);
    expect((await deliver('cdn-old', 1)).status).toBe(200);
    expect((await deliver('cdn-new', 1)).status).toBe(403);
  });

  it('accept the current and the next CDN secret together while CDNs move over', async () => {
    write({ LIVE_ORIGIN_TOKENS: `${OLD_TOKEN}=*,${NEW_TOKEN}=*`, LIVE_ORIGIN_CDN_SECRET: 'cdn-new', LIVE_ORIGIN_CDN_SECRET_NEXT: 'cdn-old' });
    await source.reload();
    expect(changes).toHaveLength(1);
    expect((await deliver('cdn-old', 1)).status).toBe(200);
    expect((await deliver('cdn-new', 1)).status).toBe(200);
    expect((await deliver(undefined, 1)).status).toBe(403);
    expect((await ingest(NEW_TOKEN, 3)).status).toBe(201);
  });

  it('stop accepting a revoked token and a retired secret at the next read, without a restart', async () => {
    write({ LIVE_ORIGIN_TOKENS: `${NEW_TOKEN}=*`, LIVE_ORIGIN_CDN_SECRET: 'cdn-new' });
    await source.reload();
    expect((await ingest(OLD_TOKEN, 4)).status).toBe(401);
    expect((await ingest(NEW_TOKEN, 5)).status).toBe(201);
    expect((await deliver('cdn-old', 1)).status).toBe(403);
    expect((await deliver('cdn-new', 1)).status).toBe(200);
  });

  it('keep the last good credentials when the file turns bad', async () => {
    write({ LIVE_ORIGIN_CDN_SECRET: 'no tokens here' });
    await source.reload();
    expect(errors).toHaveLength(1);
    expect((await ingest(NEW_TOKEN, 6)).status).toBe(201);
    expect((await deliver('cdn-new', 1)).status).toBe(200);
  });

  it('pick a change up on their own, on the reload timer', async () => {
    write({ LIVE_ORIGIN_TOKENS: `${NEW_TOKEN}=*` });
    const clock = new ManualClock();
    const timed = new CredentialsFile(file, { reloadMs: 20, clock });
    expect(timed.current().tokens.has(NEW_TOKEN)).toBe(true);
    write({ LIVE_ORIGIN_TOKENS: `${OLD_TOKEN}=news-*` });
    timed.start();
    try {
      // Nothing is re-read before the period ends on the clock; then the read is judged by what the source answers.
      await clock.advance(19);
      expect(clock.timers).toBe(1);
      expect(timed.current().tokens.has(NEW_TOKEN)).toBe(true);
      await clock.advance(1);
      await until(() => !timed.current().tokens.has(NEW_TOKEN));
      expect([...timed.current().tokens.keys()]).toEqual([OLD_TOKEN]);
    } finally {
      timed.stop();
    }
    expect(clock.timers).toBe(0);
  });
});

describe('CredentialsFile', () => {
  it('refuses to start on a file without tokens', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ LIVE_ORIGIN_CDN_SECRET: 'x' }));
    expect(() => new CredentialsFile(bad)).toThrow(/LIVE_ORIGIN_TOKENS/);
  });
});
