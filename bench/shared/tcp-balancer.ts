import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP balancer for the cluster tests and bench:cluster, standing for HAProxy (deploy/haproxy/haproxy.cfg): each new
 * connection goes to the live backend with the fewest open connections; a backend that refuses the
 * connection is skipped for the next. When a backend dies its connections close on both sides, as
 * a balancer's do, and the clients reconnect through the balancer to the others.
 */
export interface TcpBalancer {
  readonly port: number;
  /** Sets (or replaces) backend `name`'s port; `undefined` takes it out (no new connections). */
  setBackend(name: string, port: number | undefined): void;
  /** Open connections per backend. */
  connections(): Record<string, number>;
  close(): Promise<void>;
}

export async function startTcpBalancer(): Promise<TcpBalancer> {
  const backends = new Map<string, number>();
  const open = new Map<string, Set<Socket>>();
  const clients = new Set<Socket>();

  const pick = (skip: Set<string>): [string, number] | undefined => {
    let best: [string, number] | undefined;
    for (const [name, port] of backends) {
      if (skip.has(name)) continue;
      if (!best || (open.get(name)?.size ?? 0) < (open.get(best[0])?.size ?? 0)) best = [name, port];
    }
    return best;
  };

  const server = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.pause();
    const tried = new Set<string>();
    const attempt = () => {
      const target = pick(tried);
      if (!target) return client.destroy();
      const [name, port] = target;
      tried.add(name);
      const upstream = createConnection({ host: '127.0.0.1', port });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        let set = open.get(name);
        if (!set) open.set(name, (set = new Set()));
        set.add(upstream);
        upstream.on('close', () => set.delete(upstream));
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        // either side gone: both closed, as a balancer's connection ends
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      upstream.on('error', () => {
        if (!connected) attempt();
      });
    };
    attempt();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    setBackend(name, port) {
      if (port === undefined) backends.delete(name);
      else backends.set(name, port);
    },
    connections() {
      return Object.fromEntries([...open].map(([name, set]) => [name, set.size]));
    },
    async close() {
      for (const c of clients) c.destroy();
      for (const set of open.values()) for (const s of set) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
