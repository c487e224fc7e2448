/** The console's page of a ticket under `PUBLIC_URL` (the console's address as people reach it), or null without one. */
export function ticketLink(publicUrl: string | undefined, ticketId: number | null): string | null {
  if (!publicUrl || ticketId === null) return null;
  return `${publicUrl.replace(/\/+$/, '')}/#/tickets/${ticketId}`;
}
