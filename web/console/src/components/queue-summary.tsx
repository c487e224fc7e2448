/**
 * The top bar's reminder of what is pending: open tickets, how many are extra urgent, how many
 * missed a deadline, and the time left to the nearest deadline. Follows the live ticket events.
 * It also calls staff: a new urgent or extra-urgent ticket and a deadline at risk (10 min left)
 * sound a tone and show a browser notification; the tab's title counts the extra-urgent tickets.
 */
import { useEffect, useRef } from 'preact/hooks';
import { browserNotify, tabTitle, tone } from '../alert.ts';
import { allPages } from '../api.ts';
import { countdown } from '../format.ts';
import { useLoad, useNow, useThrottled } from '../hooks.ts';
import { getLang, loc, t, useLang } from '../i18n.ts';
import { onLive } from '../live.ts';
import { getMeta, isStaff, me } from '../session.ts';
import type { Ticket } from '../types.ts';

/** Levels whose new ticket calls staff at once (the plan's emergencies). */
const URGENT = new Set(['extra_urgent', 'urgent']);
/** A deadline this close is at risk (the notifications' default, NOTIFY_AT_RISK). */
const AT_RISK_MS = 10 * 60_000;

export function QueueSummary() {
  useLang();
  const now = useNow(1000);
  // every open ticket, page by page
  const open = useLoad(
    async () => ({ tickets: await allPages<Ticket>('/api/tickets', 'tickets', { open: true, limit: 1000 }) }),
    [],
  );
  const reload = useThrottled(open.reload, 1000);
  const staff = isStaff(me().role);
  useEffect(
    () =>
      onLive('ticket', (m) => {
        reload();
        // staff are called to a new emergency: a tone and a browser notification
        if (staff && m.kind === 'opened' && URGENT.has(m.ticket.level)) {
          tone();
          browserNotify(
            `${t('alert.newTicket')} · ${loc(getMeta().ticketLevels[m.ticket.level])}`,
            `${t('ticket.title', { n: m.ticket.number })}: ${m.ticket.title}`,
            `ticket-${m.ticket.id}`,
          );
        }
      }),
    [],
  );
  const list = open.data?.tickets ?? [];
  const extra = list.filter((x) => x.level === 'extra_urgent').length;
  // the tab's title counts the extra-urgent tickets, so a tab in the background still says it
  useEffect(() => {
    tabTitle(extra > 0 ? `(${extra}) ${t('alert.tabExtra')} · ${t('appName')}` : t('appName'));
  }, [extra, getLang()]);
  // a deadline that comes within AT_RISK_MS: once per ticket and deadline, a tone and a notification
  const warned = useRef(new Set<string>());
  useEffect(() => {
    if (!staff) return;
    for (const x of list) {
      if (x.nextDueAt === null || x.nextDueAt < now || x.nextDueAt - now > AT_RISK_MS) continue;
      const key = `${x.id}:${x.nextDueAt}`;
      if (warned.current.has(key)) continue;
      warned.current.add(key);
      tone(660, 0.4);
      browserNotify(
        t('alert.deadlineAtRisk', { d: countdown(x.nextDueAt - now) }),
        `${t('ticket.title', { n: x.number })}: ${x.title}`,
        `deadline-${key}`,
      );
    }
  }, [list, Math.floor(now / 5000)]);
  if (!list.length) return null;
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
