import http from 'node:http';
import type { Clock } from '../ports/clock.js';
import type { StreamRelay } from '../ports/stream-relay.js';

/**
 * How long a relay may take to answer its head: the other instance answers at once from memory,
 * so a longer wait means it is gone (the held request then looks for another candidate).
 */
export const RELAY_CONNECT_MS = 1_000;
/**
 * A relay that sends nothing this long while its PUT is still arriving is taken as broken. The
 * packager flushes every fragment (a fraction of a second); the PUT's own idle timeout cuts it
 * on the other instance well before this.
 */
export const RELAY_IDLE_MS = 15_000;

/** The relay client over node:http, with keep-alive connections to the other instances. */
export function createHttpStreamRelay(clock: Clock): StreamRelay {
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 16 });
  return {
    open(url, sink) {
      return new Promise<boolean>((resolve) => {
        let answered = false;
        let cancelConnect = (): void => undefined;
        const request = http.get(url, { agent }, (response) => {
          answered = true;
          cancelConnect();
          if (response.statusCode !== 200) {
            response.resume();
            resolve(false);
            return;
          }
          resolve(true);
          response.setTimeout(RELAY_IDLE_MS, () => response.destroy(new Error('relay idle')));
          response.on('data', (chunk: Buffer) => sink.append(chunk));
          response.once('end', () => (response.complete ? sink.end() : sink.fail()));
          response.once('aborted', () => sink.fail());
          response.once('error', () => sink.fail());
          response.once('close', () => {
            if (!response.complete) sink.fail();
          });
        });
        cancelConnect = clock.after(RELAY_CONNECT_MS, () => request.destroy(new Error('relay did not answer')));
        request.once('error', () => {
          cancelConnect();
          if (!answered) resolve(false);
        });
      });
    },
    async close() {
      agent.destroy();
    },
  };
}
