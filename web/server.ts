import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import { createWebApp, type WebDeps, type WebOptions } from './app.ts';
import type { LiveClusterFeed } from './live/cluster-feed.ts';
import { createLiveLayer, type LiveLayer, type LiveOptions } from './live/live.ts';

export interface WebServerOptions extends WebOptions {
  port: number;
  host: string;
  closeTimeoutMs?: number;
  /** The socket.io live layer (web/live); defaults in LIVE_DEFAULTS (web/live/options.ts). */
  live?: Partial<LiveOptions>;
  /** Other protocols upgraded from HTTP on this port, by path (MQTT over WebSocket at /mqtt). */
  upgrades?: Record<string, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
}

/**
 * The console's HTTP server: builds the app, attaches the socket.io live layer to the same server
 * and listens; on stop it closes live connections, refuses new requests (503), lets requests in
 * flight finish for up to `closeTimeoutMs`, then cuts what is left.
 */
export function createWebServer(
  deps: WebDeps & {
    /** What the live layer hears: the bus, or in cluster mode the cluster's view of it (core/bus.ts mergeBuses). */
    bus: Pick<EventBus<PlatformEvents>, 'on'>;
    /** Cluster mode: the other nodes' frames and fleet changes for the live layer. */
    liveCluster?: LiveClusterFeed;
  },
  options: WebServerOptions,
) {
  let app: FastifyInstance | undefined;
  let live: LiveLayer | undefined;
  return {
    get app(): FastifyInstance | undefined {
      return app;
    },
    get live(): LiveLayer | undefined {
      return live;
    },
    async start(): Promise<{ port: number }> {
      const built = await createWebApp(deps, options);
      app = built.app;
      // a missing report font is a warning now and REPORT_FONT_MISSING at a PDF request, never a failed start
      await built.ctx.reports.start();
      live = createLiveLayer(
        app.server,
        {
          bus: deps.bus,
          sessions: built.ctx.sessions,
          guests: deps.invites,
          tenancy: built.ctx.tenancy,
          names: built.ctx.names,
          vehicles: deps.vehicles,
          counters: deps.counters,
          log: deps.log,
          securityHeaders: built.securityHeaders,
          ...(deps.liveCluster ? { cluster: deps.liveCluster } : {}),
          remote: {
            access: deps.remote,
            timeline: { since: (sessionId, afterSeq) => deps.remote.timeline(sessionId, afterSeq) },
          },
          ...(deps.now ? { now: deps.now } : {}),
        },
        { ...options.live, ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}) },
      );
      const upgrades = options.upgrades ?? {};
      if (Object.keys(upgrades).length)
        app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
          const path = (req.url ?? '').split('?')[0]!;
          // anything else (socket.io's own path) is left to its listener
          if (Object.hasOwn(upgrades, path)) upgrades[path]!(req, socket, head);
        });
      await app.listen({ port: options.port, host: options.host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      deps.log.info({ port, host: options.host }, 'web console listening');
      return { port };
    },
    /**
     * Takes a new certificate and key (and client CA, CRL) for new HTTPS connections (open ones keep
     * theirs). New session ticket keys: no TLS session resumes past a changed CA or CRL.
     */
    reloadTls(): void {
      if (!app || !options.https) return;
      const server = app.server as unknown as TlsServer;
      server.setSecureContext(options.https());
      server.setTicketKeys(randomBytes(48));
    },
    async stop(): Promise<void> {
      if (!app) return;
      await live?.close();
      live = undefined;
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
