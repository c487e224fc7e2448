/**
 * A ticket's partner dispatches (修理厂/拖车公司): who was sent with what task and ETA, arrival
 * (on time or late), outcome and rework (GET /api/partner-dispatches?ticketId: staff). The duty desk
 * dispatches a partner — filtered by kind, region and capability as GET /api/partners allows, best
 * first — and records arrival and outcome (PATCH /api/partner-dispatches/{id}).
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime, toLocalInput } from '../format.ts';
import { useDebounced, useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { isStaff, me } from '../session.ts';
import { DataTable } from './data-table.tsx';
import { DateTimeInput } from './date-input.tsx';

interface Partner {
  id: number;
  kind: 'repair_shop' | 'towing';
  name: string;
  nameZh: string | null;
  regions: string[];
  capabilities: string[];
  reputation: number;
  technicalStrength: number;
  active: boolean;
  performance: { onTimePct: number | null; reworkPct: number | null };
}
interface Dispatch {
  id: number;
  partnerId: number;
  task: string;
  dispatchedAt: number;
  dispatchedBy: string;
  eta: number;
  arrivedAt: number | null;
  outcome: 'pending' | 'resolved' | 'not_resolved' | 'cancelled';
  rework: boolean;
  note: string | null;
  closedAt: number | null;
  onTime: boolean | null;
}

const OUTCOMES = ['pending', 'resolved', 'not_resolved', 'cancelled'] as const;
const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x)}%`);

export function TicketPartners({ ticketId }: { ticketId: number }) {
  useLang();
  const role = me().role;
  if (!isStaff(role)) return null;
  return <PartnersPanel ticketId={ticketId} canDispatch={role === 'admin' || role === 'dispatcher'} />;
}

function PartnersPanel({ ticketId, canDispatch }: { ticketId: number; canDispatch: boolean }) {
  const dispatches = useLoad(
    () => api.get<{ dispatches: Dispatch[] }>('/api/partner-dispatches', { ticketId }),
    [ticketId],
  );
  // The text filters follow every keystroke (a change event only on blur lost what was typed when
  // the panel re-rendered before it); the query waits until typing pauses.
  const [filter, setFilter] = useState({ kind: '', region: '', capability: '' });
  const region = useDebounced(filter.region.trim(), 250);
  const capability = useDebounced(filter.capability.trim(), 250);
  const partners = useLoad(
    () =>
      api.get<{ partners: Partner[] }>('/api/partners', {
        ...(filter.kind ? { kind: filter.kind } : {}),
        ...(region ? { region } : {}),
        ...(capability ? { capability } : {}),
      }),
    [filter.kind, region, capability],
  );
  const [all] = useState(() => new Map<number, Partner>());
  for (const p of partners.data?.partners ?? []) all.set(p.id, p);
  const [partnerId, setPartnerId] = useState('');
  const [task, setTask] = useState('');
  const [eta, setEta] = useState(toLocalInput(Date.now() + 2 * 3_600_000));
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      dispatches.reload();
      return true;
    } catch (x) {
      setErr(errorText(x));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const dispatch = async (e: Event) => {
    e.preventDefault();
    const ok = await run(() =>
      api.post(`/api/tickets/${ticketId}/partner-dispatches`, {
        partnerId: Number(partnerId),
        task: task.trim(),
        eta: new Date(eta).getTime(),
      }),
    );
    if (ok) {
      setPartnerId('');
      setTask('');
    }
  };
  const name = (id: number) => {
    const p = all.get(id);
    return p ? `${p.name}${p.nameZh ? ` (${p.nameZh})` : ''} · ${t(`res.partner.${p.kind}` as MessageKey)}` : `#${id}`;
  };
  const list = dispatches.data?.dispatches ?? [];
  const active = (partners.data?.partners ?? []).filter((p) => p.active);
  return (
    <section class="card" data-testid="ticket-partners">
      <h3>{t('partners.title')}</h3>
      {dispatches.error !== undefined && <div class="error">{errorText(dispatches.error)}</div>}
      {list.length === 0 ? (
        <p class="muted">{t('partners.none')}</p>
      ) : (
        <DataTable
          rows={list}
          rowKey={(d) => d.id}
          columns={[
            { label: t('partners.partner'), cell: (d) => name(d.partnerId) },
            { label: t('partners.task'), cell: (d) => d.task },
            { label: t('ticket.eta'), cell: (d) => <span data-testid="dispatch-eta">{dateTime(d.eta)}</span> },
            {
              label: t('partners.arrived'),
              cell: (d) =>
                d.arrivedAt === null
                  ? '—'
                  : `${dateTime(d.arrivedAt)} · ${d.onTime ? t('partners.onTime') : t('partners.late')}`,
            },
            {
              label: t('orders.outcome'),
              cell: (d) =>
                canDispatch && d.closedAt === null ? (
                  <Outcome dispatch={d} busy={busy} run={run} />
                ) : (
                  <span data-outcome={d.outcome}>
                    {t(`partners.outcome.${d.outcome}` as MessageKey)}
                    {d.rework ? ` · ${t('res.rework')}` : ''}
                    {d.note ? ` — ${d.note}` : ''}
                  </span>
                ),
            },
          ]}
        />
      )}
      {canDispatch && (
        <form class="form" data-testid="partner-dispatch-form" onSubmit={dispatch}>
          <div class="toolbar">
            <select
              name="partner-kind"
              aria-label={t('res.kind')}
              value={filter.kind}
              onChange={(e) => setFilter({ ...filter, kind: e.currentTarget.value })}
            >
              <option value="">{t('partners.anyKind')}</option>
              <option value="repair_shop">{t('res.partner.repair_shop')}</option>
              <option value="towing">{t('res.partner.towing')}</option>
            </select>
            <input
              name="partner-region"
              placeholder={t('partners.region')}
              maxLength={100}
              value={filter.region}
              onInput={(e) => setFilter({ ...filter, region: e.currentTarget.value })}
            />
            <input
              name="partner-capability"
              placeholder={t('partners.capability')}
              maxLength={100}
              value={filter.capability}
              onInput={(e) => setFilter({ ...filter, capability: e.currentTarget.value })}
            />
          </div>
          <div class="toolbar">
            <select
              name="partner"
              aria-label={t('partners.partner')}
              required
              value={partnerId}
              onChange={(e) => setPartnerId(e.currentTarget.value)}
            >
              <option value="">{t('partners.partner')} —</option>
              {active.map((p) => (
                <option key={p.id} value={String(p.id)}>
                  {name(p.id)} · ★{p.reputation}/{p.technicalStrength} · {t('res.onTime')}{' '}
                  {pct(p.performance.onTimePct)} · {p.regions.join(', ')}
                </option>
              ))}
            </select>
            <input
              class="grow"
              name="partner-task"
              required
              maxLength={2000}
              placeholder={t('partners.task')}
              value={task}
              onInput={(e) => setTask(e.currentTarget.value)}
            />
            <label>
              {t('ticket.eta')}{' '}
              <DateTimeInput
                kind="datetime"
                name="partner-eta"
                required
                value={eta}
                onInput={(e) => setEta(e.currentTarget.value)}
              />
            </label>
            <button type="submit" class="primary" disabled={busy} data-testid="partner-dispatch">
              {t('partners.dispatch')}
            </button>
          </div>
          {partners.data && active.length === 0 && <p class="muted">{t('partners.noneMatch')}</p>}
        </form>
      )}
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </section>
  );
}

/** Arrival, outcome and rework of an open dispatch (closed once the outcome is not pending). */
function Outcome({
  dispatch,
  busy,
  run,
}: {
  dispatch: Dispatch;
  busy: boolean;
  run: (fn: () => Promise<unknown>) => Promise<boolean>;
}) {
  const [outcome, setOutcome] = useState<Dispatch['outcome']>(dispatch.outcome);
  const [rework, setRework] = useState(dispatch.rework);
  const [note, setNote] = useState(dispatch.note ?? '');
  const path = `/api/partner-dispatches/${dispatch.id}`;
  return (
    <span class="toolbar" data-testid="dispatch-outcome">
      {dispatch.arrivedAt === null && (
        <button
          type="button"
          disabled={busy}
          data-testid="dispatch-arrived"
          onClick={() => void run(() => api.patch(path, { arrivedAt: Date.now() }))}
        >
          {t('partners.arrivedNow')}
        </button>
      )}
      <select
        name="dispatch-outcome"
        aria-label={t('orders.outcome')}
        value={outcome}
        onChange={(e) => setOutcome(e.currentTarget.value as Dispatch['outcome'])}
      >
        {OUTCOMES.map((o) => (
          <option key={o} value={o}>
            {t(`partners.outcome.${o}` as MessageKey)}
          </option>
        ))}
      </select>
      <label>
        <input type="checkbox" checked={rework} onChange={(e) => setRework(e.currentTarget.checked)} />{' '}
        {t('res.rework')}
      </label>
      <input
        name="dispatch-note"
        maxLength={2000}
        placeholder={t('partners.note')}
        value={note}
        onInput={(e) => setNote(e.currentTarget.value)}
      />
      <button
        type="button"
        disabled={busy}
        data-testid="dispatch-record"
        onClick={() => void run(() => api.patch(path, { outcome, rework, note: note.trim() || null }))}
      >
        {t('partners.record')}
      </button>
    </span>
  );
}
