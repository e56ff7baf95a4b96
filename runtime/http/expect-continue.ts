import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * `Expect: 100-continue`, answered as Go's net/http does: the interim `100 Continue` goes out
 * when the handler first reads the body, not on arrival. A request refused before that (401,
 * 403, 413) gets its final answer while the client still holds its body back.
 *
 * Node's default sends 100 at once, which defeats how ffmpeg finds out the authentication
 * scheme: given `http://user:token@host/...` and no `auth_type` (its HLS muxer passes none on
 * to the HTTP protocol), ffmpeg sends `Expect: 100-continue` without credentials and waits for
 * either 100, then sends the body as it is, or a 401 naming `Basic`, then sends the request
 * again with the credentials. An immediate 100 made it upload every object unauthenticated.
 */
export function continueWhenBodyRead(request: IncomingMessage, response: ServerResponse): void {
  // Every way of consuming a stream (data listeners, pipe, resume, async iteration, the readable
  // event) goes through read(); the first call sends the 100, then the prototype's read is back.
  const read = request.read;
  request.read = function readAfterContinue(this: IncomingMessage, size?: number) {
    request.read = read;
    // After the final answer, Node resumes the request to discard an unread body: no 100 then.
    if (!response.headersSent) response.writeContinue();
    return read.call(this, size);
  };
}
