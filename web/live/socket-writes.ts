import type { Socket as NetSocket } from 'node:net';
import type { LiveModule, LiveSocket } from './sockets.ts';

/** What of engine.io's transport this module touches: its name, `send`, and a WebSocket's TCP socket. */
interface EngineTransport {
  readonly name: string;
  send(packets: unknown[]): void;
  /** The `ws` WebSocket of the websocket transport, and its TCP socket. */
  socket?: { _socket?: NetSocket };
}

const coalesced = new WeakSet<EngineTransport>();

/**
 * One write to the TCP socket for what engine.io hands a WebSocket connection at once. engine.io
 * sends a connection's first message of a turn at once and queues the rest of the turn until that
 * write returned, then hands them over together; `ws` wrote each as its own frame, one `writev`
 * system call per message (the platform's largest self time under the live bench, docs/benchmarks.md).
 * Corked around that hand-over, the frames go out in one `writev`; order, content and the write
 * callbacks (engine.io's drain, the backlog the backpressure reads) are unchanged.
 */
export function coalesceWrites(transport: EngineTransport): void {
  if (transport.name !== 'websocket' || coalesced.has(transport)) return;
  coalesced.add(transport);
  const send = transport.send;
  transport.send = function (this: EngineTransport, packets: unknown[]) {
    const tcp = transport.socket?._socket;
    if (packets.length < 2 || !tcp || tcp.destroyed) return send.call(this, packets);
    tcp.cork();
    try {
      send.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
}

/** The live layer's module for it: every connection's WebSocket transport, also one it upgrades to. */
export function createSocketWrites(): LiveModule {
  return {
    connected(socket: LiveSocket) {
      const conn = socket.conn as unknown as {
        transport: EngineTransport;
        on(event: 'upgrade', listener: (transport: EngineTransport) => void): void;
      };
      coalesceWrites(conn.transport);
      conn.on('upgrade', coalesceWrites);
    },
    close() {},
  };
}
