import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1: the kernel picks one, and it is released for the caller (a
 * redis-server, an API instance) to take.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
