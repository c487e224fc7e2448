/**
 * The top bar's reminder of what is pending: open tickets, how many are extra urgent, how many
 * missed a deadline, and the time left to the nearest deadline. Follows the live ticket events.
 */
import { useEffect } from 'preact/hooks';
import { allPages } from '../api.ts';
import { countdown } from '../format.ts';
import { useLoad, useNow, useThrottled } from '../hooks.ts';
import { t, useLang } from '../i18n.ts';
import { onLive } from '../live.ts';
import type { Ticket } from '../types.ts';

export function QueueSummary() {
  useLang();
  const now = useNow(1000);
  // every open ticket, page by page
  const open = useLoad(
    async () => ({ tickets: await allPages<Ticket>('/api/tickets', 'tickets', { open: true, limit: 1000 }) }),
    [],
  );
  const reload = useThrottled(open.reload, 1000);
  useEffect(() => onLive('ticket', () => reload()), []);
  const list = open.data?.tickets ?? [];
  if (!list.length) return null;
  const extra = list.filter((x) => x.level === 'extra_urgent').length;
  const late = list.filter((x) => x.breaches.length > 0 || (x.nextDueAt !== null && x.nextDueAt < now)).length;
  const next = list
    .map((x) => x.nextDueAt)
    .filter((x): x is number => x !== null && x >= now)
    .sort((a, b) => a - b)[0];
  return (
    <a class={`queue-summary ${late ? 'late' : extra ? 'urgent' : ''}`} href="#/tickets" data-testid="queue-summary">
      {list.length === 1 ? t('summary.openOne') : t('summary.open', { n: list.length })}
      {extra > 0 && <span> · {t('summary.extra', { n: extra })}</span>}
      {late > 0 && <span> · {t('summary.late', { n: late })}</span>}
      {next !== undefined && <span> · {t('summary.next', { d: countdown(next - now) })}</span>}
    </a>
  );
}
