import { createHmac } from 'node:crypto';

/** The headers of a signed webhook delivery (docs/notifications.md "Webhook signature"). */
export const WEBHOOK_HEADERS = {
  id: 'x-powerwatch-id',
  timestamp: 'x-powerwatch-timestamp',
  signature: 'x-powerwatch-signature',
  attempt: 'x-powerwatch-attempt',
} as const;

/** `sha256=` + hex HMAC-SHA256 under the endpoint's secret of `<timestamp>.<raw body>` (timestamp: Unix seconds). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** DingTalk's signed URL (加签): `&timestamp=<ms>&sign=urlencode(base64(HMAC-SHA256(secret, "<ms>\n<secret>")))`. */
export function dingtalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const sign = createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}timestamp=${timestampMs}&sign=${encodeURIComponent(sign)}`;
}
