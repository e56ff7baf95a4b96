/**
 * The server entry with LIVE_ORIGIN_CREDENTIALS_FILE, as the AMI runs it: tokens and CDN secrets
 * come from the file, and a change to the file (the instance's credentials timer rewriting it)
 * takes effect while the process runs.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from './support/server-process.js';
import { startServerProcess } from './support/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'live-origin-server-credentials-'));
const file = join(dir, 'credentials.json');
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function write(credentials: Record<string, string>): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(credentials));
  renameSync(`${file}.tmp`, file);
}

describe('server entry with a credentials file', () => {
  it('takes its tokens from the file, and stops accepting a revoked one without a restart', async () => {
    write({ LIVE_ORIGIN_TOKENS: 'revoked-token-0123456789=*,kept-token-0123456789=*' });
    server = await startServerProcess({ LIVE_ORIGIN_TOKENS: '', LIVE_ORIGIN_CREDENTIALS_FILE: file, LIVE_ORIGIN_CREDENTIALS_RELOAD_MS: '100' });
    expect(server.output()).not.toContain('Ingest token (generated');
    const put = (token: string, n: number) =>
      fetch(`${server!.url}/ingest/cred-1/a/v/seg_${n}.m4s`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: 'x' });
    expect((await put('revoked-token-0123456789', 1)).status).toBe(201);

    write({ LIVE_ORIGIN_TOKENS: 'kept-token-0123456789=*' });
    // Judged by the answers; the bound only stops a broken reload from hanging the suite.
    const deadline = Date.now() + 20_000;
    let status = 201;
    for (let n = 2; status !== 401 && Date.now() < deadline; n++) {
      status = (await put('revoked-token-0123456789', n)).status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
    expect((await put('kept-token-0123456789', 1000)).status).toBe(201);
  }, 90_000);

  it('refuses to start on a credentials file without tokens, with exit code 2', async () => {
    writeFileSync(join(dir, 'bad.json'), '{}');
    const start = startServerProcess({ LIVE_ORIGIN_TOKENS: '', LIVE_ORIGIN_CREDENTIALS_FILE: join(dir, 'bad.json') });
    await expect(start).rejects.toThrow(/exited with 2/);
    await expect(start).rejects.toThrow(/no LIVE_ORIGIN_TOKENS/);
  }, 90_000);
});
