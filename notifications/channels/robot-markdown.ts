import type { Delivery } from './channel.ts';
import { ticketLink } from '../links.ts';

const LINK_LABEL = { en: 'Open the ticket', zh: '查看工单' } as const;

/** A group robot's markdown: the subject as a heading, the text, and the ticket's link when there is one. */
export function robotMarkdown(d: Delivery, publicUrl: string | undefined, maxBytes: number): string {
  const link = ticketLink(publicUrl, d.ticket_id);
  const tail = link && !d.body.includes(link) ? `\n\n[${LINK_LABEL[d.language]}](${link})` : '';
  const head = `### ${d.urgent ? '‼ ' : ''}${d.subject}\n\n`;
  let text = d.body;
  const budget = maxBytes - Buffer.byteLength(head + tail);
  while (Buffer.byteLength(text) > budget && text.length > 0) text = text.slice(0, Math.floor(text.length * 0.9)) + '…';
  return head + text + tail;
}
