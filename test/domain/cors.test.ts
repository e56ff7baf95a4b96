import { describe, expect, it } from 'vitest';
import { allowedOrigin, CORS_ALLOWED_REQUEST_HEADERS, CORS_MAX_AGE_SECONDS, corsPolicy, corsResponseHeaders, preflight } from '../../runtime/domain/cors.js';

const PAGE = 'https://player.example.com';
const OTHER = 'https://evil.example.net';

describe('corsPolicy', () => {
  it('is "any" for nothing or a lone *', () => {
    expect(corsPolicy([])).toEqual({ kind: 'any' });
    expect(corsPolicy([''])).toEqual({ kind: 'any' });
    expect(corsPolicy([' * '])).toEqual({ kind: 'any' });
  });

  it('keeps a list of origins, lower-cased, without a trailing slash', () => {
    const policy = corsPolicy(['https://Player.Example.com/', 'http://127.0.0.1:8080']);
    expect(policy.kind).toBe('list');
    expect(policy.kind === 'list' && [...policy.origins]).toEqual(['https://player.example.com', 'http://127.0.0.1:8080']);
  });

  it('refuses what is not an origin, and * inside a list', () => {
    expect(() => corsPolicy(['player.example.com'])).toThrow(/not an origin/);
    expect(() => corsPolicy(['https://player.example.com/watch'])).toThrow(/not an origin/);
    expect(() => corsPolicy(['*', PAGE])).toThrow(/cannot be combined/);
  });
});

describe('allowedOrigin', () => {
  it('answers * to everyone under "any", even without an Origin', () => {
    expect(allowedOrigin({ kind: 'any' }, PAGE)).toBe('*');
    expect(allowedOrigin({ kind: 'any' }, undefined)).toBe('*');
  });

  it('echoes a listed origin (any case) and refuses the others', () => {
    const policy = corsPolicy([PAGE]);
    expect(allowedOrigin(policy, PAGE)).toBe(PAGE);
    expect(allowedOrigin(policy, 'HTTPS://PLAYER.EXAMPLE.COM')).toBe('HTTPS://PLAYER.EXAMPLE.COM');
    expect(allowedOrigin(policy, OTHER)).toBeUndefined();
    expect(allowedOrigin(policy, undefined)).toBeUndefined();
  });
});

describe('corsResponseHeaders', () => {
  it('under "any": *, no Vary, and the Live-*, CMSD-* and range headers exposed by name', () => {
    const headers = corsResponseHeaders({ kind: 'any' }, PAGE);
    expect(headers['Access-Control-Allow-Origin']).toBe('*');
    expect(headers.Vary).toBeUndefined();
    const exposed = headers['Access-Control-Expose-Headers']!.split(', ');
    for (const name of ['Live-Pipeline', 'Live-Defect', 'Live-Quality', 'Live-TTL-Ms', 'CMSD-Static', 'CMSD-Dynamic', 'ETag', 'Content-Range', 'Age']) {
      expect(exposed).toContain(name);
    }
  });

  it("adds the response's own Live-Notify-* names", () => {
    const headers = corsResponseHeaders({ kind: 'any' }, PAGE, ['Live-Notify-Alert']);
    expect(headers['Access-Control-Expose-Headers']!.split(', ')).toContain('Live-Notify-Alert');
  });

  it('under a list: the asking origin and Vary: Origin; a refused origin gets no Allow-Origin', () => {
    const policy = corsPolicy([PAGE]);
    expect(corsResponseHeaders(policy, PAGE)).toMatchObject({ 'Access-Control-Allow-Origin': PAGE, Vary: 'Origin' });
    // Exposing names grants nothing without an Allow-Origin; it stays, so it can be cached per event.
    for (const page of [OTHER, undefined]) {
      const refused = corsResponseHeaders(policy, page);
      expect(refused['Access-Control-Allow-Origin']).toBeUndefined();
      expect(refused.Vary).toBe('Origin');
    }
  });
});

describe('preflight', () => {
  it('allows GET from an allowed origin with methods, request headers and a max age', () => {
    const answer = preflight(corsPolicy([PAGE]), PAGE, 'GET');
    expect(answer.kind).toBe('allowed');
    expect(answer.headers).toEqual({
      Vary: 'Origin',
      'Access-Control-Allow-Origin': PAGE,
      'Access-Control-Allow-Methods': 'GET, HEAD',
      'Access-Control-Allow-Headers': CORS_ALLOWED_REQUEST_HEADERS,
      'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
    });
    expect(CORS_ALLOWED_REQUEST_HEADERS).toBe('Range, If-None-Match, If-Range');
  });

  it('refuses another origin, and methods that would write', () => {
    expect(preflight(corsPolicy([PAGE]), OTHER, 'GET')).toMatchObject({ kind: 'refused', headers: { Vary: 'Origin' } });
    expect(preflight(corsPolicy([PAGE]), OTHER, 'GET').headers['Access-Control-Allow-Origin']).toBeUndefined();
    expect(preflight({ kind: 'any' }, PAGE, 'PUT')).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/PUT/) });
    expect(preflight({ kind: 'any' }, PAGE, 'DELETE').kind).toBe('refused');
  });

  it('answers a plain OPTIONS (not a preflight) with what the resource allows', () => {
    expect(preflight({ kind: 'any' }, undefined, undefined)).toEqual({ kind: 'options', headers: { Allow: 'GET, HEAD, OPTIONS' } });
  });
});
