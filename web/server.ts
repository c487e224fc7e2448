import type { FastifyInstance } from 'fastify';
import { createWebApp, type WebDeps, type WebOptions } from './app.ts';

/**
 * The console's HTTP server: builds the app and listens; on stop it refuses new requests (503),
 * lets requests in flight finish for up to `closeTimeoutMs`, then cuts what is left.
 */
export function createWebServer(deps: WebDeps, options: WebOptions & { port: number; host: string; closeTimeoutMs?: number }) {
  let app: FastifyInstance | undefined;
  return {
    get app(): FastifyInstance | undefined {
      return app;
    },
    async start(): Promise<{ port: number }> {
      app = (await createWebApp(deps, options)).app;
      await app.listen({ port: options.port, host: options.host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      deps.log.info({ port, host: options.host }, 'web console listening');
      return { port };
    },
    async stop(): Promise<void> {
      if (!app) return;
      const closing = app.close();
      const timer = setTimeout(() => app?.server.closeAllConnections(), options.closeTimeoutMs ?? 5000);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        app = undefined;
      }
    },
  };
}

export type WebServer = ReturnType<typeof createWebServer>;
