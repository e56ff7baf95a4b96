import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OriginError } from '../../domain/errors.js';

export interface ReadBody {
  readonly body: Buffer;
  /** Quoted MD5 of the bytes (as S3 computes for single-part objects). */
  readonly etag: string;
}

function tooLarge(limit: number): OriginError {
  return new OriginError('payload_too_large', `object larger than ${limit} bytes`);
}

/**
 * Reads one object from the request stream: hashed as it arrives, never more than `limit`
 * bytes kept, and rejected at once if Content-Length already says it is too large.
 */
export async function readBody(stream: Readable | undefined, limit: number, declaredLength: number | undefined): Promise<ReadBody> {
  if (declaredLength !== undefined && declaredLength > limit) throw tooLarge(limit);
  const hash = createHash('md5');
  const chunks: Buffer[] = [];
  let size = 0;
  if (stream) {
    // Leaving the loop early (413) must not destroy the request: that would reset the
    // connection before the answer is read. The errors plugin drains the rest (lingering close).
    try {
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > limit) throw tooLarge(limit);
        hash.update(buffer);
        chunks.push(buffer);
      }
    } catch (error) {
      if (error instanceof OriginError) throw error;
      throw new OriginError('bad_request', `body ended early after ${size} bytes`, {}, error);
    }
  }
  if (declaredLength !== undefined && size !== declaredLength) {
    throw new OriginError('bad_request', `body ended after ${size} of ${declaredLength} bytes`);
  }
  return { body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), etag: `"${hash.digest('hex')}"` };
}
