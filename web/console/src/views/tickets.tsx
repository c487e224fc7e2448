/**
 * The ticket queue: ordered by the next deadline (the platform's order), live countdowns, breach
 * highlighting, level badges, filters. New and changed tickets arrive over the socket.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { mergeSummary } from '../../../live/fleet-wire.ts';
import { allPages, api } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { TicketTable } from '../components/ticket-table.tsx';
import { useLoad, useNow } from '../hooks.ts';
import { loc, t, useLang } from '../i18n.ts';
import { onLive } from '../live.ts';
import { getMeta, isStaff, me } from '../session.ts';
import type { Ticket, VehicleState } from '../types.ts';

type Scope = 'open' | 'breached' | 'mine' | 'all';

/** The queue's order: next deadline first, then the first deadline, then id (as GET /api/tickets). */
export function byDeadline(a: Ticket, b: Ticket): number {
  const da = a.nextDueAt ?? Infinity;
  const db = b.nextDueAt ?? Infinity;
  if (da !== db) return da - db;
  return a.workContentDueAt - b.workContentDueAt || a.id - b.id;
}

const OPEN = new Set(['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired']);

export function Tickets() {
  useLang();
  const now = useNow(1000);
  const account = me();
  const staff = isStaff(account.role);
  const [scope, setScope] = useState<Scope>('open');
  const [level, setLevel] = useState('');
  const [q, setQ] = useState('');
  // the whole queue in its order, page by page (the platform pages by position: nothing twice, nothing skipped)
  const list = useLoad(
    async () => ({
      tickets: await allPages<Ticket>('/api/tickets', 'tickets', {
        ...(scope === 'open' || scope === 'mine' ? { open: true } : {}),
        ...(scope === 'breached' ? { breached: true } : {}),
        ...(scope === 'mine' ? { assignee: account.id } : {}),
        ...(level ? { level } : {}),
        limit: 1000,
      }),
    }),
    [scope, level],
  );
  const [fresh, setFresh] = useState<string | null>(null);
  // the vehicles of the queue as they are now (charge, time to empty), kept current from the live channel
  const fleet = useLoad(() => api.get<{ vehicles: VehicleState[] }>('/api/vehicles'), []);
  const [vehicles, setVehicles] = useState(new Map<string, VehicleState>());
  useEffect(() => setVehicles(new Map((fleet.data?.vehicles ?? []).map((v) => [v.id, v]))), [fleet.data]);
  useEffect(() => onLive('resync', () => fleet.reload()), []);
  useEffect(
    () =>
      onLive('fleet', (u) =>
        setVehicles((cur) => {
          let next: Map<string, VehicleState> | null = null;
          for (const e of u.vehicles) {
            const v = cur.get(e.id);
            if (!v || !e.latest) continue;
            next ??= new Map(cur);
            next.set(e.id, { ...v, latest: mergeSummary(v.latest, e.latest) });
          }
          return next ?? cur;
        }),
      ),
    [],
  );

  useEffect(
    () =>
      onLive('ticket', (m) => {
        if (m.kind === 'opened') setFresh(m.ticket.number);
        list.setData((d) => {
          if (!d) return d;
          const rest = d.tickets.filter((x) => x.id !== m.ticket.id);
          const tk = m.ticket as Ticket;
          const keep =
            (scope === 'all' || OPEN.has(tk.status)) &&
            (scope !== 'breached' || tk.breaches.length > 0) &&
            (scope !== 'mine' || tk.assignee === account.id) &&
            (!level || tk.level === level);
          return { tickets: keep ? [...rest, tk] : rest };
        });
      }),
    [scope, level],
  );

  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const all = (list.data?.tickets ?? []).filter(
      (x) =>
        !needle ||
        x.number.toLowerCase().includes(needle) ||
        x.title.toLowerCase().includes(needle) ||
        (x.vehicleId ?? '').toLowerCase().includes(needle) ||
        (x.customerId ?? '').toLowerCase().includes(needle),
    );
    return all.sort(byDeadline);
  }, [list.data, q]);

  return (
    <div class="view tickets">
      <h2>{t('tickets.title')}</h2>
      {fresh && (
        <div class="notice" role="status" data-testid="ticket-notice">
          {t('tickets.new', { n: fresh })}
        </div>
      )}
      <div class="toolbar">
        {(['open', 'breached', ...(staff ? (['mine'] as const) : []), 'all'] as Scope[]).map((s) => (
          <button type="button" key={s} class={scope === s ? 'active' : ''} onClick={() => setScope(s)}>
            {t(`tickets.filter.${s}`)}
          </button>
        ))}
        <select value={level} onChange={(e) => setLevel(e.currentTarget.value)} aria-label={t('tickets.col.level')}>
          <option value="">
            {t('tickets.col.level')}: {t('common.all')}
          </option>
          {Object.entries(getMeta().ticketLevels).map(([k, l]) => (
            <option key={k} value={k}>
              {loc(l)}
            </option>
          ))}
        </select>
        <input type="search" placeholder={t('common.search')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <p class="muted">{t('common.loading')}</p>
      ) : (
        <TicketTable tickets={shown} now={now} showCustomer={staff} vehicles={vehicles} />
      )}
    </div>
  );
}
