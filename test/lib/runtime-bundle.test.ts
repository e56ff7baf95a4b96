import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runtimeSourceHash } from '../../lib/runtime-bundle.js';
import { FIXTURE_ENTRY } from './helpers.js';

describe('runtimeSourceHash', () => {
  const copy = mkdtempSync(join(tmpdir(), 'live-origin-hash-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(join(FIXTURE_ENTRY, '..'), copy, { recursive: true });
  const entry = join(copy, 'server.ts');

  it('is the same for the same sources wherever they are', () => {
    expect(runtimeSourceHash(entry)).toBe(runtimeSourceHash(FIXTURE_ENTRY));
  });

  it('moves when a source beside the entry changes, or a new one appears', () => {
    const before = runtimeSourceHash(entry);
    writeFileSync(join(copy, 'extra.ts'), 'export const x = 1;\n');
    const added = runtimeSourceHash(entry);
    expect(added).not.toBe(before);
    writeFileSync(join(copy, 'extra.ts'), 'export const x = 2;\n');
    expect(runtimeSourceHash(entry)).not.toBe(added);
  });
});
