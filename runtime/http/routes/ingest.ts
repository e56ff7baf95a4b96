import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDefects } from '../../domain/defects.js';
import { OriginError } from '../../domain/errors.js';
import { parseNotifications } from '../../domain/notifications.js';
import type { ObjectPath } from '../../domain/object-path.js';
import { parseObjectPath } from '../../domain/object-path.js';
import { parseQuality, qualityOf } from '../../domain/quality.js';
import type { ReadBody } from '../plugins/raw-body.js';
import { readBody, tooLarge } from '../plugins/raw-body.js';
import type { IngestParams } from '../schemas.js';
import { ingestParams } from '../schemas.js';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const SEGMENT_NUMBER = /^\d{1,15}$/;

type IngestRequest = FastifyRequest<{ Params: IngestParams }>;

declare module 'fastify' {
  interface FastifyRequest {
    objectPath?: ObjectPath;
  }
}

function explicitNumber(header: string | string[] | undefined, name = 'Live-Segment'): number | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !SEGMENT_NUMBER.test(header.trim())) {
    throw new OriginError('bad_request', `${name} must be a non-negative integer of at most 15 digits`);
  }
  return Number(header.trim());
}

function contentLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  return raw === undefined ? undefined : Number(raw);
}

/**
 * `/ingest/{event}/{pipeline}/{path}`: packagers publish here. Identifiers are checked first
 * (schema, then path rules), then the token, then the request itself.
 */
export async function ingestRoutes(app: FastifyInstance): Promise<void> {
  // Every body is raw object bytes, whatever its Content-Type: nothing parses or buffers it here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const checks = {
    schema: { params: ingestParams },
    preHandler: async (request: IngestRequest) => {
      request.objectPath = parseObjectPath(request.params['*']);
      app.authorize(request, request.params.event);
    },
  };

  app.put<{ Params: IngestParams }>('/ingest/:event/:pipeline/*', checks, async (request, reply) => {
    const { event, pipeline } = request.params;
    // Live-Segment belongs to the request, checked after the token like the other headers.
    const number = explicitNumber(request.headers['live-segment']);
    // Live-Part (LL-HLS): the part index within that segment, overriding a `<msn>.<part>` name.
    const part = explicitNumber(request.headers['live-part'], 'Live-Part');
    const object = number === undefined && part === undefined ? request.objectPath! : parseObjectPath(request.params['*'], { segment: number, part });
    const defects = parseDefects(header(request, 'live-defect'));
    const quality = parseQuality(header(request, 'live-quality'));
    const notifications = parseNotifications(request.headers);
    const contentType = header(request, 'content-type') ?? DEFAULT_CONTENT_TYPE;
    const declaredSize = contentLength(request);
    const { limits, ingest } = app.origin;
    if (declaredSize !== undefined && declaredSize > limits.maxObjectBytes) throw tooLarge(limits.maxObjectBytes);
    // Headers accepted: delivery may serve the object from its first byte (contract v3).
    const stream = ingest.begin({ event, pipeline, object, contentType, declaredSize, defects, quality });
    let body: ReadBody;
    try {
      body = await readBody(request.body as Readable | undefined, limits.maxObjectBytes, declaredSize, stream);
    } catch (error) {
      if (stream) ingest.abandon(stream);
      throw error;
    }
    const result = await ingest.put({ event, pipeline, object, body: body.body, etag: body.etag, contentType, defects, quality, notifications }, stream);
    app.origin.control.touch(event);
    void reply.code(result.status).header('ETag', result.etag);
    return { status: result.status === 201 ? 'created' : 'replaced', etag: result.etag };
  });

  app.patch<{ Params: IngestParams }>('/ingest/:event/:pipeline/*', checks, async (request) => {
    const { event, pipeline } = request.params;
    if ((contentLength(request) ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined) {
      throw new OriginError('bad_request', 'PATCH takes no body, only Live-Defect and Live-Quality');
    }
    const path = request.objectPath!.path;
    const updated = await app.origin.ingest.patchDefects(event, pipeline, path, header(request, 'live-defect'), header(request, 'live-quality'));
    return { pipeline, path: updated.path, defects: updated.defects, quality: qualityOf(updated) };
  });

  app.get<{ Params: IngestParams }>('/ingest/:event/:pipeline/*', checks, async (request, reply) => {
    const { event, pipeline } = request.params;
    return sendCandidate(app, reply, event, pipeline, request.objectPath!.path);
  });

  app.delete<{ Params: IngestParams }>('/ingest/:event/:pipeline/*', checks, async (request, reply) => {
    const { event, pipeline } = request.params;
    await app.origin.ingest.delete(event, pipeline, request.objectPath!.path);
    void reply.code(204);
  });
}

/** One pipeline's candidate as stored, for operators. */
async function sendCandidate(app: FastifyInstance, reply: FastifyReply, event: string, pipeline: string, path: string) {
  const { candidate, bytes } = await app.origin.ingest.inspect(event, pipeline, path);
  void reply.headers({
    'Content-Type': bytes.contentType,
    ETag: candidate.etag,
    'Last-Modified': new Date(candidate.publishedAt).toUTCString(),
    'Live-Pipeline': pipeline,
    'Live-Quality': String(qualityOf(candidate)),
    'Cache-Control': 'no-store',
  });
  if (candidate.defects.length > 0) void reply.header('Live-Defect', candidate.defects.join(', '));
  return bytes.body;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
