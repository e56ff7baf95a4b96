import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseTokenGrants } from '../domain/tokens.js';
import type { Cancel, Clock } from '../ports/clock.js';
import type { CredentialSource, Credentials } from '../ports/credentials.js';
import { systemClock } from './system-clock.js';

/** How often the file is read again: with the instance's one-minute refresh, a revoked token dies within two minutes. */
export const CREDENTIALS_RELOAD_MS = 30_000;

/**
 * The credentials file's JSON: `LIVE_ORIGIN_TOKENS` (required, as in the environment),
 * `LIVE_ORIGIN_CDN_SECRET` and `LIVE_ORIGIN_CDN_SECRET_NEXT` (both accepted while CDNs move from
 * one to the other). Throws on anything else, so a bad file never replaces good credentials.
 */
export function parseCredentials(text: string): Credentials {
  const json = JSON.parse(text) as Record<string, unknown>;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('the credentials file must hold a JSON object');
  const { LIVE_ORIGIN_TOKENS: tokens, LIVE_ORIGIN_CDN_SECRET: current, LIVE_ORIGIN_CDN_SECRET_NEXT: next } = json;
  if (typeof tokens !== 'string') throw new Error('the credentials file has no LIVE_ORIGIN_TOKENS');
  const secrets = [current, next].filter((secret) => secret !== undefined && secret !== '');
  if (!secrets.every((secret) => typeof secret === 'string')) throw new Error('CDN secrets must be strings');
  return { tokens: parseTokenGrants(tokens), cdnSecrets: (secrets as string[]).map((secret) => Buffer.from(secret)) };
}

export interface CredentialsFileOptions {
  /** @default CREDENTIALS_RELOAD_MS */
  readonly reloadMs?: number;
  /** A re-read found new credentials. */
  readonly onChange?: () => void;
  /** A re-read failed (unreadable, or not valid): the previous credentials stay. */
  readonly onError?: (error: unknown) => void;
  /** Times the re-reads. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Credentials from a file that something else keeps fresh (on AWS, a timer that fetches the
 * runtime secret every minute), read at start and then every `reloadMs`. A file rather than the
 * runtime calling Secrets Manager itself: the runtime needs no secrets client or permission of
 * its own, the instance fetches once per host instead of once per worker, and the same rotation
 * works wherever a file can be written (a mounted secret, a config manager, a test).
 */
export class CredentialsFile implements CredentialSource {
  private credentials: Credentials;
  private text: string;
  /** Stops the re-reads while they run. */
  private stopTimer: Cancel | undefined;

  /** Reads the file once; throws when it is missing or not valid (the process should not start). */
  constructor(
    private readonly path: string,
    private readonly options: CredentialsFileOptions = {},
  ) {
    this.text = readFileSync(path, 'utf8');
    this.credentials = parseCredentials(this.text);
  }

  current(): Credentials {
    return this.credentials;
  }

  start(): void {
    if (this.stopTimer) return;
    this.stopTimer = (this.options.clock ?? systemClock).every(this.options.reloadMs ?? CREDENTIALS_RELOAD_MS, () => void this.reload());
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  /** Reads the file again; keeps the current credentials if it is unchanged, unreadable or not valid. */
  async reload(): Promise<void> {
    try {
      const text = await readFile(this.path, 'utf8');
      if (text === this.text) return;
      this.credentials = parseCredentials(text);
      this.text = text;
      this.options.onChange?.();
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
