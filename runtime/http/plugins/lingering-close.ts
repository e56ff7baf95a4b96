import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../../ports/clock.js';

/**
 * Lingering close, as nginx does it: a request refused while its body is still arriving gets
 * its answer, then the connection's write side is shut (FIN) and the rest of the body is read
 * and thrown away for a bounded time and size before the socket closes. Without it, Node closes
 * a `Connection: close` socket with unread bytes in its receive buffer, the kernel answers with
 * a reset, and a packager that writes its whole body before reading (ffmpeg, most simple
 * clients) loses the 413/401/403 and sees "connection reset" instead.
 */

/** Longest a refused upload is read and discarded after its answer (nginx's lingering_timeout). */
export const LINGER_MAX_MS = 5_000;
/** Most body bytes discarded after the answer: above a large segment refused by auth, far below the 64 MiB object limit. */
export const LINGER_MAX_BYTES = 32 * 1024 * 1024;

export interface LingerBounds {
  readonly maxMs: number;
  readonly maxBytes: number;
}

const DEFAULT_BOUNDS: LingerBounds = { maxMs: LINGER_MAX_MS, maxBytes: LINGER_MAX_BYTES };

/** True when the request carries a body whose end has not arrived yet. */
export function bodyStillArriving(request: IncomingMessage): boolean {
  if (request.complete) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

type LingeringSocket = Socket & { destroySoon?: () => void };

/**
 * Makes the close that follows this request's response a lingering one. Call before the
 * response is sent with `Connection: close`. Node's HTTP server ends such a connection with
 * `socket.destroySoon()` once the response is written; on this socket that becomes: shut the
 * write side, keep the read side draining, destroy when the body ends, the client closes, or
 * either bound is reached.
 */
export function lingerAfterResponse(request: IncomingMessage, clock: Clock, bounds: LingerBounds = DEFAULT_BOUNDS): void {
  const socket = request.socket as LingeringSocket | null;
  if (!socket || socket.destroyed) return;
  socket.destroySoon = () => {
    let discarded = 0;
    const close = (): void => {
      cancelTimer();
      request.off('data', count);
      socket.destroy();
    };
    const count = (chunk: Buffer): void => {
      discarded += chunk.length;
      if (discarded > bounds.maxBytes) close();
    };
    const cancelTimer = clock.after(bounds.maxMs, close);
    socket.end();
    socket.once('close', cancelTimer);
    socket.once('end', close);
    // The body's end is the clean case: nothing left unread, so the close sends no reset.
    request.once('end', close);
    request.on('data', count);
    request.resume();
    if (request.readableEnded) close();
  };
}
