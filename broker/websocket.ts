import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Counters } from '../core/counters.ts';
import type { Logger } from '../core/logger.ts';
import { refusedCertificate } from './client-certificate.ts';

/** Where MQTT over WebSocket is served on the console's port (the path MQTT.js and most tools use). */
export const MQTT_WS_PATH = '/mqtt';

export interface MqttWebSocketDeps {
  /** The broker's connection handler: the same authentication, ACL, limits and flow control as TCP. */
  broker: { serve(stream: Duplex & { remoteAddress?: string | undefined }): void };
  counters: Counters;
  log: Logger;
}

/**
 * MQTT over WebSocket (`ws[s]://host:HTTP_PORT/mqtt`), for gateways behind proxies that pass only
 * HTTP(S) and for browser tools. Each upgraded connection becomes a byte stream (ws'
 * `createWebSocketStream`) handed to the embedded broker like a TCP socket. WebSocket messages larger
 * than `maxPacketBytes` close the connection (the broker's own packet limit applies as well).
 *
 * Client certificates (wss with HTTP_TLS_CLIENT_CERT=optional): the HTTPS server asked for one in the
 * handshake of the TLS connection under the upgrade request. A certificate that failed verification
 * (another CA, expired, revoked) refuses the upgrade (403, counted in `mqtt.client_cert_refused`);
 * a verified one travels with the stream (`getPeerCertificate`/`authorized`) so that the broker
 * authenticates the vehicle by its CN exactly as on the TLS port (client-certificate.ts).
 */
export function createMqttWebSocket(deps: MqttWebSocketDeps, options: { maxPacketBytes: number }) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPacketBytes,
    perMessageDeflate: false,
    // MQTT 3.1.1/5 name the subprotocol `mqtt`; some older clients send `mqttv3.1`
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  return {
    path: MQTT_WS_PATH,
    /** Takes over an HTTP upgrade request for MQTT_WS_PATH. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const tls = req.socket as Partial<TLSSocket>;
      const bad = refusedCertificate(tls);
      if (bad) {
        deps.counters.inc('mqtt.client_cert_refused', bad);
        deps.log.warn({ address: req.socket.remoteAddress, reason: bad }, 'client certificate refused (WebSocket)');
        socket.once('finish', () => socket.destroy());
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const tlsSocket = typeof tls.getPeerCertificate === 'function' ? (req.socket as TLSSocket) : undefined;
      wss.handleUpgrade(req, socket, head, (ws) => {
        deps.counters.inc('mqtt.websocket_connections');
        const stream = Object.assign(createWebSocketStream(ws), {
          remoteAddress: req.socket.remoteAddress,
          remotePort: req.socket.remotePort,
          // the TLS identity of the connection, read by certificateIdentity at CONNECT
          ...(tlsSocket
            ? {
                authorized: tlsSocket.authorized,
                getPeerCertificate: () => tlsSocket.getPeerCertificate(),
              }
            : {}),
        });
        stream.on('error', (err) => deps.log.debug({ err: err.message }, 'MQTT WebSocket stream error'));
        deps.broker.serve(stream);
      });
    },
    close(): void {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
