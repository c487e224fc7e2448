/** A vehicle's most pressing open ticket (level, status, time to its next deadline) and how many more. */
import { countdown } from '../format.ts';
import { t } from '../i18n.ts';
import type { VehicleState } from '../types.ts';
import { LevelBadge, StatusBadge } from './badges.tsx';

export function OpenTicket({ v, now }: { v: VehicleState; now: number }) {
  const tk = v.openTicket;
  if (!tk) return <span class="muted">—</span>;
  const left = tk.nextDueAt === null ? null : tk.nextDueAt - now;
  return (
    <a
      href={`#/tickets/${tk.id}`}
      class="open-ticket"
      data-testid={`open-ticket-${v.id}`}
      onClick={(e) => e.stopPropagation()}
    >
      <LevelBadge level={tk.level} /> <StatusBadge status={tk.status} />{' '}
      {left !== null && (
        <span class={`countdown ${left < 0 ? 'overdue' : left < 5 * 60_000 ? 'soon' : 'ok'}`}>
          {left < 0 ? t('tickets.overdue', { d: countdown(left) }) : t('tickets.dueIn', { d: countdown(left) })}
        </span>
      )}
      {v.openTickets > 1 && <span class="muted"> +{v.openTickets - 1}</span>}
    </a>
  );
}
