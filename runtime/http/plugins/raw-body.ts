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
 * Reads one object from the request stream: hashed and copied as it arrives, never more than
 * `limit` bytes kept, and rejected at once if Content-Length already says it is too large.
 * With a Content-Length the object's buffer is allocated once and each chunk is copied in while
 * the next is on the wire, so the ack waits only for the last chunk's hash, not for a copy of
 * the whole object; a body that arrives as one chunk is kept as it is.
 */
export function readBody(stream: Readable | undefined, limit: number, declaredLength: number | undefined): Promise<ReadBody> {
  if (declaredLength !== undefined && declaredLength > limit) return Promise.reject(tooLarge(limit));
  if (!stream || stream.readableEnded) return Promise.resolve(finish(Buffer.alloc(0), createHash('md5'), declaredLength));
  const hash = createHash('md5');
  const into = declaredLength !== undefined && declaredLength > 0 ? Buffer.allocUnsafe(declaredLength) : undefined;
  const chunks: Buffer[] = [];
  let first: Buffer | undefined;
  let size = 0;
  return new Promise<ReadBody>((resolve, reject) => {
    const stop = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (error: OriginError): void => {
      stop();
      // The request is not destroyed: that would reset the connection before the answer is
      // read. Paused, it keeps the rest for the errors plugin to drain (lingering close).
      stream.pause();
      reject(error);
    };
    const onData = (buffer: Buffer): void => {
      const offset = size;
      size += buffer.length;
      if (size > limit) {
        fail(tooLarge(limit));
        return;
      }
      hash.update(buffer);
      if (into) {
        if (size > into.length) {
          fail(new OriginError('bad_request', `body longer than its Content-Length of ${into.length} bytes`));
          return;
        }
        if (offset === 0 && size === into.length) first = buffer;
        else buffer.copy(into, offset);
      } else {
        chunks.push(buffer);
      }
    };
    const onEnd = (): void => {
      stop();
      const body = first ?? into?.subarray(0, size) ?? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      try {
        resolve(finish(body, hash, declaredLength));
      } catch (error) {
        reject(error);
      }
    };
    const onError = (error: Error): void => {
      stop();
      reject(new OriginError('bad_request', `body ended early after ${size} bytes`, {}, error));
    };
    const onClose = (): void => onError(new Error('request closed before its body ended'));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

function finish(body: Buffer, hash: ReturnType<typeof createHash>, declaredLength: number | undefined): ReadBody {
  if (declaredLength !== undefined && body.length !== declaredLength) {
    throw new OriginError('bad_request', `body ended after ${body.length} of ${declaredLength} bytes`);
  }
  return { body, etag: `"${hash.digest('hex')}"` };
}
