import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

/**
 * A bare MQTT 3.1.1 client over a net socket, built on mqtt-packet: it sends exactly the bytes it
 * is given (what MQTT.js refuses to send: 150-level topics, QoS 2 publishes never released,
 * oversize packets, pre-encoded floods) and reports what the broker answers.
 */
export interface RawClient {
  readonly socket: Socket;
  /** PUBACK / PUBREC ids received that nobody has awaited yet (`ack` takes them out, so ids can be reused). */
  readonly acked: Set<number>;
  /** PUBACK / PUBREC packets received, in all. */
  acks(): number;
  /** Publishes the broker delivered to this client (a subscription's messages). */
  readonly received: IPublishPacket[];
  /** Resolves once the connection has closed (for whatever reason). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** Writes raw bytes; resolves once the socket accepted them (waits for 'drain' when its buffer is full). */
  write(bytes: Buffer): Promise<void>;
  send(packet: Packet): Promise<void>;
  /** Resolves once the broker acknowledged `messageId` (PUBACK for QoS 1, PUBREC for QoS 2), before or after the call; rejects if the connection closes first. */
  ack(messageId: number, ms?: number): Promise<void>;
  /** Subscribes (QoS 0 by default) and resolves with the SUBACK's granted codes. */
  subscribe(topic: string, qos?: 0 | 1): Promise<number[]>;
  end(): void;
}

export interface RawConnectOptions {
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  /** Connection timeout (CONNACK). */
  ms?: number;
}

export const encode = (packet: Packet): Buffer => mqttPacket.generate(packet);

export function publishPacket(topic: string, payload: Buffer | string, qos: 0 | 1 | 2, messageId?: number): Buffer {
  return encode({
    cmd: 'publish',
    topic,
    payload,
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { messageId: messageId ?? 1 } : {}),
  } as IPublishPacket);
}

/** Opens a TCP connection without sending anything (for garbage before CONNECT). */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Connects and resolves once the CONNACK accepted the connection; rejects with its return code otherwise. */
export async function rawConnect(options: RawConnectOptions): Promise<RawClient> {
  const socket = await openSocket(options.port);
  const parser = mqttPacket.parser();
  const acked = new Set<number>();
  const received: IPublishPacket[] = [];
  const ackWaiters = new Map<number, (err?: Error) => void>();
  let subackWaiter: ((granted: number[]) => void) | undefined;
  let connackWaiter: ((rc: number) => void) | undefined;
  let isClosed = false;
  let ackCount = 0;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      for (const [id, w] of [...ackWaiters]) w(new Error(`${options.clientId}: closed before acknowledging ${id}`));
      resolve();
    }),
  );
  socket.on('error', () => undefined); // the broker closing on us is an expected outcome; watch `closed`
  socket.on('data', (chunk) => parser.parse(chunk));
  parser.on('error', () => socket.destroy());
  parser.on('packet', (p: Packet) => {
    switch (p.cmd) {
      case 'connack':
        connackWaiter?.(p.returnCode ?? 0);
        break;
      case 'puback':
      case 'pubrec':
        ackCount++;
        if (p.messageId !== undefined) {
          const waiter = ackWaiters.get(p.messageId);
          if (waiter) waiter();
          else acked.add(p.messageId);
        }
        break;
      case 'suback':
        subackWaiter?.((p.granted as (number | { qos: number })[]).map((g) => (typeof g === 'number' ? g : g.qos)));
        break;
      case 'publish':
        received.push(p);
        if (p.qos === 1 && p.messageId !== undefined) socket.write(encode({ cmd: 'puback', messageId: p.messageId }));
        break;
      default:
        break;
    }
  });

  const write = (bytes: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (isClosed || socket.destroyed) return reject(new Error(`${options.clientId}: connection closed`));
      if (socket.write(bytes)) return resolve();
      const onDrain = () => {
        socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        socket.off('drain', onDrain);
        reject(new Error(`${options.clientId}: connection closed`));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });

  const rc = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.clientId}: no CONNACK within ${options.ms ?? 5000} ms`)),
      options.ms ?? 5000,
    );
    connackWaiter = (code) => {
      clearTimeout(timer);
      resolve(code);
    };
    void closed.then(() => {
      clearTimeout(timer);
      reject(new Error(`${options.clientId}: closed before CONNACK`));
    });
    socket.write(
      encode({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: options.clientId,
        keepalive: options.keepalive ?? 60,
        ...(options.username !== undefined ? { username: options.username } : {}),
        ...(options.password !== undefined ? { password: Buffer.from(options.password) } : {}),
      }),
    );
  });
  if (rc !== 0) {
    socket.destroy();
    throw Object.assign(new Error(`${options.clientId}: CONNACK return code ${rc}`), { returnCode: rc });
  }

  return {
    socket,
    acked,
    received,
    closed,
    isClosed: () => isClosed,
    acks: () => ackCount,
    write,
    send: (packet) => write(encode(packet)),
    ack(messageId, ms = 30_000) {
      if (acked.delete(messageId)) return Promise.resolve();
      if (isClosed) return Promise.reject(new Error(`${options.clientId}: closed before acknowledging ${messageId}`));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`${options.clientId}: no acknowledgement of ${messageId} within ${ms} ms`)),
          ms,
        );
        function finish(err?: Error) {
          clearTimeout(timer);
          ackWaiters.delete(messageId);
          if (err) reject(err);
          else resolve();
        }
        ackWaiters.set(messageId, finish);
      });
    },
    subscribe(topic, qos = 0) {
      return new Promise<number[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${options.clientId}: no SUBACK for ${topic}`)), 5000);
        subackWaiter = (granted) => {
          clearTimeout(timer);
          subackWaiter = undefined;
          resolve(granted);
        };
        write(encode({ cmd: 'subscribe', messageId: 65000, subscriptions: [{ topic, qos }] })).catch(reject);
      });
    },
    end() {
      if (!isClosed && !socket.destroyed) socket.end(encode({ cmd: 'disconnect' }));
    },
  };
}
