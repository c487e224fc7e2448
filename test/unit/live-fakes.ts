import { vi } from 'vitest';
import type { LiveServer, LiveSocket } from '../../web/live/sockets.ts';

/** A connection as the live layer's modules see it: a backlog (`writeBuffer`), rooms, what it received. */
export interface FakeSocket {
  id: string;
  connected: boolean;
  data: { account: { id: string }; sessionId: string };
  conn: {
    writeBuffer: unknown[];
    close: ReturnType<typeof vi.fn>;
    transport: { socket: { terminate: ReturnType<typeof vi.fn> } };
    on: (event: string, listener: () => void) => void;
    /** Calls the `drain` listeners. */
    drain: () => void;
  };
  received: { event: string; args: unknown[] }[];
  disconnect: ReturnType<typeof vi.fn>;
  emit: (event: string, ...args: unknown[]) => boolean;
}

/**
 * Just enough of a socket.io server for the live layer's modules: sockets, rooms of socket ids,
 * and `to(rooms).except(ids).emit()` delivering to what each fake socket `received`.
 */
export function fakeIo() {
  const sockets = new Map<string, FakeSocket>();
  const rooms = new Map<string, Set<string>>();
  const broadcast = (to: string[], except: Set<string>) => ({
    except: (ids: string[]) => broadcast(to, new Set([...except, ...ids])),
    emit(event: string, ...args: unknown[]) {
      const ids = new Set(to.flatMap((r) => [...(rooms.get(r) ?? [])]));
      for (const id of ids) if (!except.has(id)) sockets.get(id)?.received.push({ event, args });
      return true;
    },
  });
  const io = {
    sockets: { sockets, adapter: { rooms } },
    to: (r: string | string[]) => broadcast(Array.isArray(r) ? r : [r], new Set()),
  };

  function connect(id: string, joined: string[] = [], account = id): FakeSocket {
    const drainListeners: (() => void)[] = [];
    const s: FakeSocket = {
      id,
      connected: true,
      data: { account: { id: account }, sessionId: `session-${id}` },
      conn: {
        writeBuffer: [],
        close: vi.fn(),
        transport: { socket: { terminate: vi.fn() } },
        on: (event, listener) => {
          if (event === 'drain') drainListeners.push(listener);
        },
        drain: () => drainListeners.forEach((l) => l()),
      },
      received: [],
      disconnect: vi.fn(() => {
        s.connected = false;
        sockets.delete(id);
        for (const set of rooms.values()) set.delete(id);
      }),
      emit(event, ...args) {
        s.received.push({ event, args });
        return true;
      },
    };
    sockets.set(id, s);
    for (const r of joined) {
      let set = rooms.get(r);
      if (!set) rooms.set(r, (set = new Set()));
      set.add(id);
    }
    return s;
  }

  return { io: io as unknown as LiveServer, connect, asLive: (s: FakeSocket) => s as unknown as LiveSocket };
}

/** Fills a fake connection's backlog to `n` messages waiting. */
export function backlogOf(s: FakeSocket, n: number): void {
  s.conn.writeBuffer = Array.from({ length: n }, () => 'waiting');
}
