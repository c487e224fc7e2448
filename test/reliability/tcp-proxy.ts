import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy for network-fault tests: it sits between clients and a server on 127.0.0.1 and can
 * add latency, black-hole connections (nothing forwarded, nothing closed: a dead link) and leave
 * them half-open (one side closed, the other never told).
 *
 * - `delay(ms)`: every chunk, both ways, is forwarded `ms` later (order kept).
 * - `blackhole()`: the connections stop forwarding in both directions; their sockets stay open and
 *   are no longer read, so what the peers send waits in the kernel (as on a link that went dead:
 *   no data, no FIN, no RST). A close on one side is not passed on to the other. With
 *   `{ newConnections: true }` connections accepted later are black-holed too.
 * - `restore()`: black-holed connections forward again (what waited is delivered, as TCP would
 *   after the link comes back), unless one side closed meanwhile: that connection is then reset
 *   on both sides. New connections are forwarded.
 * - `halfOpen('client')`: the client's socket is closed, the server's side stays open and hears
 *   nothing (the server must find out by itself, e.g. by MQTT keepalive); `halfOpen('server')` the
 *   other way round.
 */
export interface TcpProxy {
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` (or another scheme). */
  url(scheme?: string): string;
  delay(ms: number): void;
  blackhole(options?: { newConnections?: boolean }): void;
  restore(): void;
  halfOpen(closed: 'client' | 'server'): void;
  /** Closes every connection now (both sides see the close). */
  cutAll(): void;
  /** Connections accepted so far, and those whose both sides are still open. */
  connections(): { accepted: number; open: number };
  /** When (Date.now) the last byte went from a client to the server, over any connection. */
  lastToServerAt(): number | null;
  close(): Promise<void>;
}

interface Pipe {
  client: Socket;
  server: Socket;
  dead: boolean;
  held: boolean;
  clientClosed: boolean;
  serverClosed: boolean;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const pipes = new Set<Pipe>();
  let delayMs = 0;
  let holdNew = false;
  let accepted = 0;
  let lastToServer: number | null = null;

  /** Forwards `from` → `to`, with the current delay, in order. */
  function forward(p: Pipe, from: Socket, to: Socket, toServer: boolean) {
    const queue: { at: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    const pump = () => {
      timer = null;
      const now = Date.now();
      while (queue.length && queue[0]!.at <= now) {
        const { chunk } = queue.shift()!;
        if (!to.destroyed) to.write(chunk);
        if (toServer) lastToServer = Date.now();
      }
      if (queue.length) timer = setTimeout(pump, queue[0]!.at - now);
    };
    from.on('data', (chunk: Buffer) => {
      if (p.held || p.dead) return; // paused sockets emit nothing; a chunk already read is dropped only on a dead pipe
      if (delayMs === 0 && queue.length === 0) {
        to.write(chunk);
        if (toServer) lastToServer = Date.now();
        return;
      }
      queue.push({ at: Date.now() + delayMs, chunk });
      timer ??= setTimeout(pump, delayMs);
    });
    from.once('close', () => {
      if (timer) clearTimeout(timer);
    });
  }

  function hold(p: Pipe) {
    p.held = true;
    p.client.pause();
    p.server.pause();
  }

  function onClosed(p: Pipe, side: 'client' | 'server') {
    if (side === 'client') p.clientClosed = true;
    else p.serverClosed = true;
    const other = side === 'client' ? p.server : p.client;
    // a dead or held link does not carry the close: the other side is never told
    if (p.held || p.dead) return;
    other.destroy();
    pipes.delete(p);
  }

  const server: Server = createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
    accepted++;
    const upstream = createConnection({ host, port: target.port, noDelay: true });
    upstream.pause();
    const p: Pipe = { client, server: upstream, dead: false, held: false, clientClosed: false, serverClosed: false };
    pipes.add(p);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.once('close', () => onClosed(p, 'client'));
    upstream.once('close', () => onClosed(p, 'server'));
    forward(p, client, upstream, true);
    forward(p, upstream, client, false);
    upstream.once('connect', () => {
      if (holdNew) hold(p);
      else {
        client.resume();
        upstream.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    url: (scheme = 'mqtt') => `${scheme}://127.0.0.1:${port}`,
    delay(ms) {
      delayMs = Math.max(0, ms);
    },
    blackhole(options = {}) {
      for (const p of pipes) hold(p);
      holdNew = options.newConnections ?? false;
    },
    restore() {
      holdNew = false;
      for (const p of [...pipes]) {
        if (!p.held) continue;
        p.held = false;
        if (p.clientClosed || p.serverClosed || p.dead) {
          // the peer's connection state is gone: what comes back is a reset
          p.client.destroy();
          p.server.destroy();
          pipes.delete(p);
          continue;
        }
        p.client.resume();
        p.server.resume();
      }
    },
    halfOpen(closed) {
      for (const p of pipes) {
        p.dead = true;
        p.client.pause();
        p.server.pause();
        if (closed === 'client') p.client.destroy();
        else p.server.destroy();
      }
    },
    cutAll() {
      for (const p of pipes) {
        p.client.destroy();
        p.server.destroy();
      }
      pipes.clear();
    },
    connections: () => ({ accepted, open: [...pipes].filter((p) => !p.clientClosed && !p.serverClosed).length }),
    lastToServerAt: () => lastToServer,
    async close() {
      for (const p of pipes) {
        p.client.destroy();
        p.server.destroy();
      }
      pipes.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
