import { createServer, type Server } from 'node:http';
import type { Logger } from '../core/logger.ts';

/**
 * A small HTTP endpoint for operators and probes until the web console takes over this port:
 * `GET /healthz` (200 when up) and `GET /metrics` (counters as JSON).
 */
export function createStatusHttp(deps: { log: Logger; health: () => object; metrics: () => object }, options: { port: number; host: string }) {
  let server: Server | undefined;
  return {
    async start(): Promise<{ port: number }> {
      server = createServer((req, res) => {
        const send = (status: number, body: object) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
          res.end(JSON.stringify(body));
        };
        if (req.method !== 'GET') return send(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is served here' } });
        if (req.url === '/healthz') return send(200, deps.health());
        if (req.url === '/metrics') return send(200, deps.metrics());
        send(404, { error: { code: 'NOT_FOUND', message: `no route ${req.url}` } });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(options.port, options.host, () => resolve());
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      deps.log.info({ port }, 'status HTTP listening');
      return { port };
    },
    async stop() {
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
