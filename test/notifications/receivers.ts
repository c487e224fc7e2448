import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A local HTTP receiver for webhook and robot deliveries: answers each request with the next of
 * `answer`'s results (after its `delayMs`, when given) and records what arrived; `next()` resolves
 * with the next request to arrive.
 */
export async function startReceiver(
  answer: (r: Received, n: number) => { status: number; body?: string; delayMs?: number } | 'hang',
) {
  const received: Received[] = [];
  const waiting: ((r: Received) => void)[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://receiver'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      waiting.shift()?.(r);
      const a = answer(r, received.length);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      const reply = () => {
        hanging.delete(res);
        if (!res.destroyed) res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '');
      };
      if (!a.delayMs) return reply();
      hanging.add(res);
      setTimeout(reply, a.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    next: () => new Promise<Received>((resolve) => waiting.push(resolve)),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * DingTalk's check of a signed robot URL, as its documentation describes it: `timestamp` (ms) within
 * an hour of now, and `sign` = urlencode(base64(HmacSHA256(key = secret, data = timestamp + "\n" + secret))).
 */
export function dingtalkAccepts(url: URL, secret: string, nowMs: number): boolean {
  const timestamp = url.searchParams.get('timestamp');
  const sign = url.searchParams.get('sign'); // searchParams decodes the urlencoding
  if (!timestamp || !sign || Math.abs(nowMs - Number(timestamp)) > 3_600_000) return false;
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64') === sign;
}
