import type { WebhookEndpoint } from '../channel-config.ts';
import { ticketLink } from '../links.ts';
import { WEBHOOK_HEADERS, webhookSignature } from '../webhook-signature.ts';
import { permanent, retry, type Channel, type Delivery } from './channel.ts';
import { postJson } from './http.ts';

export interface WebhookChannelOptions {
  endpoints: readonly WebhookEndpoint[];
  timeoutMs: number;
  publicUrl?: string;
  /** Unix milliseconds (the signature's timestamp is in seconds). */
  now?: () => number;
}

/** The JSON body of a webhook delivery (docs/notifications.md). */
export function webhookBody(d: Delivery, publicUrl?: string) {
  return {
    id: d.key,
    kind: d.kind,
    createdAt: d.created_at,
    language: d.language,
    urgent: d.urgent === 1,
    customerId: d.customer_id,
    vehicleId: d.vehicle_id,
    ticketId: d.ticket_id,
    link: ticketLink(publicUrl, d.ticket_id),
    subject: d.subject,
    text: d.body,
    data: d.payload === null ? null : (JSON.parse(d.payload) as unknown),
  };
}

/**
 * Signed JSON POSTs to the deployment's webhook endpoints (target = endpoint id). 2xx: delivered;
 * 410 Gone: the endpoint is disabled until an admin enables it again; anything else (other 4xx, 5xx,
 * no answer within the timeout) is tried again.
 */
export function createWebhookChannel(options: WebhookChannelOptions): Channel {
  const endpoints = new Map(options.endpoints.map((e) => [e.id, e]));
  const now = options.now ?? Date.now;
  return {
    async send(d) {
      const endpoint = endpoints.get(d.target);
      if (!endpoint) return permanent(`webhook endpoint "${d.target}" is not configured`);
      if (endpoint.customerId !== null && d.customer_id !== null && endpoint.customerId !== d.customer_id)
        return permanent(`webhook endpoint "${d.target}" belongs to another customer unit`);
      const body = JSON.stringify(webhookBody(d, options.publicUrl));
      const timestamp = Math.floor(now() / 1000);
      return postJson(
        endpoint.url,
        body,
        {
          [WEBHOOK_HEADERS.id]: d.key,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: webhookSignature(endpoint.secret, timestamp, body),
          [WEBHOOK_HEADERS.attempt]: String(d.attempt),
          'user-agent': 'powerwatch-webhook/1',
        },
        options.timeoutMs,
        (a) => {
          if (a.status >= 200 && a.status < 300) return { ok: true };
          if (a.status === 410)
            return { disableTarget: true, error: 'HTTP 410 Gone: the endpoint asked to be disabled' };
          return retry(`HTTP ${a.status}`);
        },
      );
    },
  };
}
