import type { AddressInfo } from 'node:net';
import net from 'node:net';

/**
 * A TCP proxy on loopback that forwards requests at once and holds back every answer by a
 * delay drawn per response burst: a store that is slow, not down. The store applies the request
 * immediately and its answer arrives late, the worst case for a client whose timeout fires
 * (the write happened, the client does not know). Bytes keep their order on each connection.
 */
export interface DelayProxy {
  readonly url: string;
  /** Every answer from now on is held back by a delay drawn uniformly from [minMs, maxMs]. */
  setDelay(minMs: number, maxMs?: number): void;
  close(): Promise<void>;
}

/** Bytes from upstream that arrive within this long of the previous ones belong to the same answer. */
const BURST_GAP_MS = 5;

export async function startDelayProxy(target: string): Promise<DelayProxy> {
  const { hostname, port } = new URL(target);
  let delay = { min: 0, max: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let dueAt = 0;
    let lastArrival = -Infinity;
    upstream.on('data', (data) => {
      const now = performance.now();
      // A new answer draws its own delay; later bytes of the same answer keep its schedule.
      if (now - lastArrival > BURST_GAP_MS) dueAt = Math.max(dueAt, now + delay.min + Math.random() * (delay.max - delay.min));
      lastArrival = now;
      setTimeout(() => client.writable && client.write(data), Math.max(0, dueAt - now));
    });
    client.on('data', (data) => upstream.write(data));
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    // The client's end goes through at once; the upstream's end waits for its delayed bytes.
    client.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
    upstream.on('end', () => setTimeout(close, Math.max(0, dueAt - performance.now()) + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setDelay(minMs, maxMs = minMs) {
      delay = { min: minMs, max: maxMs };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
