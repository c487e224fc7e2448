/** Tickets ordered by deadline with live countdowns, level badges and breach highlighting. */
import { countdown } from '../format.ts';
import { navigate } from '../hooks.ts';
import { loc, personName, t } from '../i18n.ts';
import { ticketTitle } from '../session.ts';
import { timeToEmpty } from '../format.ts';
import type { Ticket, VehicleState } from '../types.ts';
import { LevelBadge, ModeLabel, SocBar, StatusBadge } from './badges.tsx';

const OPEN = new Set(['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired']);

export function Countdown({ ticket, now }: { ticket: Ticket; now: number }) {
  if (ticket.nextDueAt === null)
    return <span class="muted">{ticket.breaches.length ? t('tickets.breached') : t('tickets.noDeadline')}</span>;
  const left = ticket.nextDueAt - now;
  const cls = left < 0 ? 'overdue' : left < 5 * 60_000 ? 'soon' : 'ok';
  return (
    <span class={`countdown ${cls}`} data-testid="countdown" data-due={ticket.nextDueAt}>
      {left < 0 ? t('tickets.overdue', { d: countdown(left) }) : t('tickets.dueIn', { d: countdown(left) })}
    </span>
  );
}

export function TicketTable({
  tickets,
  now,
  showCustomer,
  vehicles,
}: {
  tickets: Ticket[];
  now: number;
  showCustomer: boolean;
  /** The vehicles as they are now: the queue shows each ticket's vehicle by name with its charge and time to empty. */
  vehicles?: Map<string, VehicleState>;
}) {
  if (!tickets.length) return <p class="muted">{t('common.empty')}</p>;
  // tickets of one vehicle still open together are marked (the ticket page shows them side by side)
  const openPerVehicle = new Map<string, number>();
  for (const x of tickets)
    if (x.vehicleId && OPEN.has(x.status)) openPerVehicle.set(x.vehicleId, (openPerVehicle.get(x.vehicleId) ?? 0) + 1);
  return (
    <table class="grid" data-testid="ticket-table">
      <thead>
        <tr>
          <th>{t('tickets.col.number')}</th>
          <th>{t('tickets.col.level')}</th>
          <th>{t('tickets.col.title')}</th>
          <th>{t('common.vehicle')}</th>
          {showCustomer && <th>{t('common.customer')}</th>}
          <th>{t('common.status')}</th>
          <th>{t('tickets.col.due')}</th>
          <th>{t('tickets.col.assignee')}</th>
          <th>{t('tickets.col.mode')}</th>
        </tr>
      </thead>
      <tbody>
        {tickets.map((tk) => {
          const late = tk.breaches.length > 0 || (tk.nextDueAt !== null && tk.nextDueAt < now);
          return (
            <tr
              key={tk.id}
              class={`clickable ${late ? 'breached' : ''}`}
              data-ticket={tk.number}
              data-level={tk.level}
              onClick={() => navigate(`/tickets/${tk.id}`)}
            >
              <td>
                <a href={`#/tickets/${tk.id}`}>{tk.number}</a>
              </td>
              <td>
                <LevelBadge level={tk.level} />
              </td>
              <td>{ticketTitle(tk, loc)}</td>
              <td>
                <VehicleCell id={tk.vehicleId} v={tk.vehicleId ? vehicles?.get(tk.vehicleId) : undefined} />
                {tk.vehicleId && OPEN.has(tk.status) && (openPerVehicle.get(tk.vehicleId) ?? 0) > 1 && (
                  <span class="badge sev-minor" data-testid="same-vehicle-mark">
                    {t('tickets.sameVehicle', { n: openPerVehicle.get(tk.vehicleId)! })}
                  </span>
                )}
              </td>
              {showCustomer && <td>{tk.customerId ?? '—'}</td>}
              <td>
                <StatusBadge status={tk.status} />
              </td>
              <td>
                <Countdown ticket={tk} now={now} />
              </td>
              <td>{tk.assignee ? personName(tk.assignee) : <span class="muted">{t('ticket.unassigned')}</span>}</td>
              <td>
                <ModeLabel mode={tk.serviceMode} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The ticket's vehicle: a link by name, and (when known) its charge and time to empty now. */
function VehicleCell({ id, v }: { id: string | null; v: VehicleState | undefined }) {
  if (!id) return <>—</>;
  return (
    <span class="vehicle-cell" data-testid={`queue-vehicle-${id}`}>
      <a href={`#/vehicles/${encodeURIComponent(id)}`} onClick={(e) => e.stopPropagation()}>
        {v ? v.name : id}
      </a>
      {v?.latest && (
        <span class="muted">
          {' '}
          <SocBar pct={v.latest.batterySocPct} /> {timeToEmpty(v.latest.timeToEmptyMin)}
        </span>
      )}
    </span>
  );
}
