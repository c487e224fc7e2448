import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Counters } from '../../core/counters.ts';
import { LIVE_PATH } from './events.ts';

/** How long a closing layer waits for upgraded connections to close before cutting them. */
const CLOSE_GRACE_MS = 500;

/**
 * socket.io's side of the console's HTTP server. socket.io answers its HTTP requests itself, outside
 * Fastify's hooks: they get the API's security headers (set before engine.io writes its own), and
 * bodies it refused as too large are counted (`live.invalid` too_large). Upgraded (WebSocket)
 * connections are not closed by the HTTP server's close: `close` cuts those left after a grace period.
 */
export function createTransportHooks(
  server: HttpServer,
  deps: { counters: Counters; securityHeaders?: Record<string, string> },
) {
  const livePrefix = `${LIVE_PATH}/`;
  const onHttpRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith(livePrefix)) return;
    for (const [name, value] of Object.entries(deps.securityHeaders ?? {})) res.setHeader(name, value);
    res.once('finish', () => {
      if (res.statusCode === 413) deps.counters.inc('live.invalid', 'too_large');
    });
  };
  server.prependListener('request', onHttpRequest);

  const upgraded = new Set<Duplex>();
  const onUpgrade = (_req: IncomingMessage, socket: Duplex) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };
  server.on('upgrade', onUpgrade);

  return {
    /** Waits up to CLOSE_GRACE_MS for upgraded connections to close, cuts the rest, and unhooks from the server. */
    async close(): Promise<void> {
      if (upgraded.size) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, CLOSE_GRACE_MS);
          const check = () => {
            if (upgraded.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          };
          for (const s of upgraded) s.once('close', check);
        });
        for (const s of upgraded) s.destroy();
      }
      server.off('upgrade', onUpgrade);
      server.off('request', onHttpRequest);
    },
  };
}
