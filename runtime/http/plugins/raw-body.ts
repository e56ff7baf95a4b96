import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OriginError } from '../../domain/errors.js';
import { BodyBuffer } from '../../service/body-buffer.js';

export interface ReadBody {
  readonly body: Buffer;
  /** Quoted MD5 of the bytes (as S3 computes for single-part objects). */
  readonly etag: string;
}

export function tooLarge(limit: number): OriginError {
  return new OriginError('payload_too_large', `object larger than ${limit} bytes`);
}

/** Where a body's bytes go as they arrive: a BodyBuffer, or an IngestStream that also serves them. */
export interface BodySink {
  append(chunk: Buffer): void;
  /** The whole body, once its last byte arrived. */
  body(): Buffer;
}

/**
 * Reads one object from the request stream: hashed and kept as it arrives (see BodyBuffer),
 * never more than `limit` bytes, and rejected at once if Content-Length already says it is too
 * large. The bytes go to `sink` (an IngestStream serves them to readers as they come), else to
 * a buffer of its own.
 */
export function readBody(stream: Readable | undefined, limit: number, declaredLength: number | undefined, sink?: BodySink): Promise<ReadBody> {
  if (declaredLength !== undefined && declaredLength > limit) return Promise.reject(tooLarge(limit));
  const bytes = sink ?? new BodyBuffer(declaredLength);
  if (!stream || stream.readableEnded) return Promise.resolve(finish(bytes.body(), createHash('md5'), declaredLength));
  const hash = createHash('md5');
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
      size += buffer.length;
      if (size > limit) {
        fail(tooLarge(limit));
        return;
      }
      if (declaredLength !== undefined && size > declaredLength) {
        fail(new OriginError('bad_request', `body longer than its Content-Length of ${declaredLength} bytes`));
        return;
      }
      hash.update(buffer);
      bytes.append(buffer);
    };
    const onEnd = (): void => {
      stop();
      try {
        resolve(finish(bytes.body(), hash, declaredLength));
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
