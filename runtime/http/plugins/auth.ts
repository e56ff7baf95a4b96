import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OriginError } from '../../domain/errors.js';
import type { TokenGrants } from '../../domain/tokens.js';
import { AUTH_CHALLENGES, checkAccess } from '../../domain/tokens.js';

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
    /** Throws 403 unless the request carries the CDN secret (when one is configured). */
    authorizeCdn(request: { readonly headers: IncomingHttpHeaders }): void;
    /** Throws 401 unless the token is known; returns which events it grants (status page). */
    grantedEvents(request: FastifyRequest): (event: string) => boolean;
  }
}

export interface AuthOptions {
  readonly tokens: TokenGrants;
  readonly cdnSecret?: string;
}

export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options: AuthOptions) => {
    const secret = options.cdnSecret === undefined ? undefined : Buffer.from(options.cdnSecret);

    app.decorate('authorize', (request: FastifyRequest, event: string) => {
      const access = checkAccess(options.tokens, request.headers.authorization, event);
      if (access === 'unauthenticated') {
        throw unauthenticated();
      }
      if (access === 'forbidden') throw new OriginError('forbidden', `token does not grant event ${event}`);
    });

    app.decorate('grantedEvents', (request: FastifyRequest) => {
      if (checkAccess(options.tokens, request.headers.authorization, undefined) === 'unauthenticated') {
        throw unauthenticated();
      }
      return (event: string) => checkAccess(options.tokens, request.headers.authorization, event) === 'granted';
    });

    app.decorate('authorizeCdn', (request: { readonly headers: IncomingHttpHeaders }) => {
      if (!secret) return;
      const given = request.headers['live-cdn-auth'];
      const bytes = typeof given === 'string' ? Buffer.from(given) : undefined;
      if (!bytes || bytes.length !== secret.length || !timingSafeEqual(bytes, secret)) {
        throw new OriginError('forbidden', 'missing or wrong Live-CDN-Auth');
      }
    });
  },
  { name: 'live-origin-auth' },
);
