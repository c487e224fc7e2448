/**
 * The receiving end of bench:notify, in the bench's own process on 127.0.0.1: a real SMTP server
 * (smtp-server, STARTTLS with its built-in self-signed certificate, login required, as a production
 * relay would ask) and a webhook receiver. Each records, per delivery, the idempotency key
 * (`X-Powerwatch-Id`) and the moment it had the whole message: the end of the SMTP DATA (the mail
 * is accepted: `250` follows) or of the webhook request body (answered 200 at once).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Arrival {
  key: string;
  at: number;
}

export const SMTP_USER = 'bench';
export const SMTP_PASSWORD = 'bench-smtp-password-2026';

/** The X-Powerwatch-Id header of a raw message (headers end at the first empty line). */
function keyOfMail(raw: string): string {
  const head = raw.slice(0, Math.max(0, raw.indexOf('\r\n\r\n')) || raw.length);
  const m = /^x-powerwatch-id:[ \t]*(.+(?:\r\n[ \t].+)*)/im.exec(head);
  return m ? m[1]!.replace(/\r\n[ \t]+/g, ' ').trim() : '';
}

export async function startSmtpReceiver() {
  const arrivals: Arrival[] = [];
  const server = new SMTPServer({
    secure: false,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    logger: false,
    maxClients: 200,
    // no reverse DNS of the client (127.0.0.1): the lookup would be timed, not the delivery
    disableReverseLookup: true,
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return cb(null, { user: SMTP_USER });
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        arrivals.push({ key: keyOfMail(Buffer.concat(chunks).toString('utf8')), at: Date.now() });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    arrivals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function startWebhookReceiver() {
  const arrivals: Arrival[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push({ key: String(req.headers['x-powerwatch-id'] ?? ''), at: Date.now() });
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
