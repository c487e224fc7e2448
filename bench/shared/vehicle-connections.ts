/**
 * MQTT connections of simulated vehicles to the platform on 127.0.0.1, as the load generators of
 * bench:ingest and bench:live open them: MQTT.js, protocol 3.1.1, client id = username = vehicle id,
 * password = its secret, clean session, no reconnect, TCP_NODELAY.
 */
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Credential } from './provision.ts';

const HOST = '127.0.0.1';

/** One vehicle's connection; rejects on an error, a close before CONNACK, or after `timeoutMs` (+1 s). */
export function connectVehicle(
  cred: Credential,
  port: number,
  keepalive: number,
  timeoutMs: number,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: HOST,
      port,
      protocol: 'mqtt',
      protocolVersion: 4,
      clientId: cred.id,
      username: cred.id,
      password: cred.secret,
      clean: true,
      keepalive,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      resubscribe: false,
    });
    // no Nagle delay on the client side either (the platform and Mosquitto set TCP_NODELAY on theirs)
    (client.stream as Partial<Socket>).setNoDelay?.(true);
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs + 1000);
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error('closed before CONNACK'));
    function fail(err: Error) {
      clearTimeout(timer);
      client.removeListener('connect', onConnect);
      client.end(true);
      reject(err);
    }
    function onConnect() {
      clearTimeout(timer);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      resolve(client);
    }
    client.once('connect', onConnect);
    client.once('error', onError);
    client.once('close', onClose);
  });
}

export interface Connected {
  /** In the order of the credentials; undefined where the connection failed or was never tried. */
  clients: (MqttClient | undefined)[];
  /** Failed, or not tried before the deadline. */
  failed: number;
  firstError: string | undefined;
  ms: number;
}

/**
 * Connects every vehicle, `concurrency` connects in flight at a time, within `timeoutMs` in all
 * (what is not tried by then counts as failed); `progress` hears a line every 5 s. With a list of
 * ports (bench:cluster: one per node), vehicle `i` connects to `ports[i % ports.length]`.
 */
export async function connectVehicles(
  creds: Credential[],
  port: number | readonly number[],
  options: { concurrency: number; timeoutMs: number; keepalive: number; progress?: (text: string) => void },
): Promise<Connected> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const deadline = Date.now() + options.timeoutMs;
  const clients: (MqttClient | undefined)[] = new Array(creds.length);
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const started = Date.now();
  let lastReport = started;
  async function worker() {
    while (next < creds.length) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const i = next++;
      try {
        const to = typeof port === 'number' ? port : port[i % port.length]!;
        clients[i] = await connectVehicle(creds[i]!, to, options.keepalive, Math.min(30_000, remaining));
      } catch (err) {
        failed++;
        firstError ??= `${creds[i]!.id}: ${(err as Error).message}`;
      }
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        options.progress?.(`${i + 1}/${creds.length} connecting (${failed} failed)`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, creds.length) }, worker));
  failed += creds.length - next; // never attempted: connect deadline passed
  return { clients, failed, firstError, ms: Date.now() - started };
}
