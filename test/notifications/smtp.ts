import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export const USER = 'powerwatch';
export const PASSWORD = 'smtp-password-7788';

export interface Arrived {
  mail: ParsedMail;
  raw: string;
  secure: boolean;
  user: string | undefined;
  rcpt: string[];
}

/** A real SMTP server: STARTTLS (its built-in self-signed certificate), login required only after TLS. */
export async function startSmtp(refuse?: (rcpt: string) => number | undefined) {
  const arrived: Arrived[] = [];
  const waiting: ((a: Arrived) => void)[] = [];
  const server = new SMTPServer({
    secure: false,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    logger: false,
    disableReverseLookup: true, // 127.0.0.1: no DNS in tests
    onAuth(auth, _session, cb) {
      if (auth.username === USER && auth.password === PASSWORD) return cb(null, { user: USER });
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const code = refuse?.(address.address);
      if (code) return cb(Object.assign(new Error(`refused ${address.address}`), { responseCode: code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        void simpleParser(raw).then((mail) => {
          const a: Arrived = {
            mail,
            raw,
            secure: session.secure,
            user: session.user as string | undefined,
            rcpt: session.envelope.rcptTo.map((r) => r.address),
          };
          arrived.push(a);
          waiting.shift()?.(a);
          cb();
        }, cb);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    arrived,
    next: () => new Promise<Arrived>((resolve) => waiting.push(resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpReceiver = Awaited<ReturnType<typeof startSmtp>>;
