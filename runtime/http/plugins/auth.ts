import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OriginError } from '../../domain/errors.js';
import type { TokenGrants } from '../../domain/tokens.js';
import { AUTH_CHALLENGES, checkAccess } from '../../domain/tokens.js';
import { type CredentialSource, fixedCredentials } from '../../ports/credentials.js';

/** 401: no token, or one nobody configured; the answer offers both ways to present one. */
function unauthenticated(): OriginError {
  return new OriginError('unauthorized', 'missing or unknown token (Bearer, or Basic with the token as password)', {
    'WWW-Authenticate': [...AUTH_CHALLENGES],
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Throws 401/403 unless the token (Bearer, or Basic's password) grants `event`. */
    authorize(request: FastifyRequest, event: string): void;
    /** Throws 403 unless the request carries a CDN secret (the current or, during a rotation, the next; when one is configured). */
    authorizeCdn(request: { readonly headers: IncomingHttpHeaders }): void;
    /** Throws 401 unless the token is known; returns which events it grants (status page). */
    grantedEvents(request: FastifyRequest): (event: string) => boolean;
  }
}

export interface AuthOptions {
  readonly tokens: TokenGrants;
  readonly cdnSecret?: string;
  /** Asked on every request instead of `tokens` and `cdnSecret`, so rotations apply at once. */
  readonly credentials?: CredentialSource;
}

/** Whether `given` is one of `secrets`, compared in constant time. */
function oneOf(secrets: readonly Buffer[], given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const bytes = Buffer.from(given);
  let match = false;
  for (const secret of secrets) {
    if (bytes.length === secret.length && timingSafeEqual(bytes, secret)) match = true;
  }
  return match;
}

export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options: AuthOptions) => {
    const credentials = options.credentials ?? fixedCredentials(options.tokens, [options.cdnSecret]);

    app.decorate('authorize', (request: FastifyRequest, event: string) => {
      const access = checkAccess(credentials.current().tokens, request.headers.authorization, event);
      if (access === 'unauthenticated') {
        throw unauthenticated();
      }
      if (access === 'forbidden') throw new OriginError('forbidden', `token does not grant event ${event}`);
    });

    app.decorate('grantedEvents', (request: FastifyRequest) => {
      const { tokens } = credentials.current();
      if (checkAccess(tokens, request.headers.authorization, undefined) === 'unauthenticated') {
        throw unauthenticated();
      }
      return (event: string) => checkAccess(tokens, request.headers.authorization, event) === 'granted';
    });

    app.decorate('authorizeCdn', (request: { readonly headers: IncomingHttpHeaders }) => {
      const secrets = credentials.current().cdnSecrets;
      if (secrets.length === 0) return;
      if (!oneOf(secrets, request.headers['live-cdn-auth'])) throw new OriginError('forbidden', 'missing or wrong Live-CDN-Auth');
    });
  },
  { name: 'live-origin-auth' },
);
