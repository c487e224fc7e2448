/** Tickets ordered by deadline with live countdowns, level badges and breach highlighting. */
import { countdown } from '../format.ts';
import { navigate } from '../hooks.ts';
import { loc, personName, t } from '../i18n.ts';
import { ticketTitle } from '../session.ts';
import type { Ticket } from '../types.ts';
import { LevelBadge, ModeLabel, StatusBadge } from './badges.tsx';

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

export function TicketTable({ tickets, now, showCustomer }: { tickets: Ticket[]; now: number; showCustomer: boolean }) {
  if (!tickets.length) return <p class="muted">{t('common.empty')}</p>;
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
              <td>{tk.vehicleId ?? '—'}</td>
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
