/**
 * One ticket: deadlines with countdowns, the need and contacts, the actions its status allows for
 * one's role, assignment and service mode, the timeline, the telemetry snapshot around the fault
 * and the emergency plan's steps. Customers follow progress and add remarks.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { mergeSummary } from '../../../live/fleet-wire.ts';
import { api, errorText } from '../api.ts';
import {
  ErrorBox,
  InternalBadge,
  LevelBadge,
  ModeLabel,
  SocBar,
  SourceBadge,
  StatusBadge,
  VisibilityChoice,
} from '../components/badges.tsx';
import { SurveyPanel } from '../components/survey.tsx';
import { Chart } from '../components/chart.tsx';
import { Fact } from '../components/fact.tsx';
import { Countdown } from '../components/ticket-table.tsx';
import { TicketSessions } from '../components/remote-support.tsx';
import { TicketStock } from '../components/ticket-stock.tsx';
import { TicketTeam } from '../components/ticket-team.tsx';
import { TicketQuality } from '../components/ticket-quality.tsx';
import { TicketPartners } from '../components/ticket-partners.tsx';
import { SupportPlanPanel } from '../components/support-plan.tsx';
import { ModeSteps } from '../components/mode-steps.tsx';
import { axesOf, CHARTS, columnsFromSeries, seriesDefs, uplotData } from '../charts.ts';
import { countdown, dateTime, timeToEmpty } from '../format.ts';
import { useLoad, useNow, useThrottled } from '../hooks.ts';
import { getLang, loc, personName, t, useLang, type MessageKey } from '../i18n.ts';
import { onLive } from '../live.ts';
import { getMeta, isStaff, me, ticketTitle } from '../session.ts';
import { timelineAction, timelineNote } from '../timeline.ts';
import type { StaffMember, StaffPage, Ticket, TicketAlarm, TicketDetail, VehicleState } from '../types.ts';
import { DateTimeInput } from '../components/date-input.tsx';

/**
 * An auto-opened ticket's need is written in both languages, one line each (diagnostics.ts
 * `automaticNeed`): the console shows the line of its language. Anything else as written.
 */
function needIn(tk: Pick<Ticket, 'source'>, text: string): string {
  const lines = text.split('\n');
  if (tk.source !== 'rule' || lines.length !== 2) return text;
  return getLang() === 'zh' ? lines[1]! : lines[0]!;
}

export function TicketView({ id }: { id: string }) {
  useLang();
  const now = useNow(1000);
  const role = me().role;
  const detail = useLoad(() => api.get<TicketDetail>(`/api/tickets/${encodeURIComponent(id)}`), [id]);
  const reload = useThrottled(detail.reload, 500);
  useEffect(() => onLive('ticket', (m) => String(m.ticket.id) === id && reload()), [id]);
  const vehicleId = detail.data?.ticket.vehicleId ?? null;
  const vehicle = useVehicleNow(vehicleId);

  if (detail.error) return <ErrorBox error={detail.error} />;
  const d = detail.data;
  if (!d) return <p class="muted">{t('common.loading')}</p>;
  const tk = d.ticket;
  const meta = getMeta();
  return (
    <div class="view ticket" data-testid="ticket-view" data-status={tk.status}>
      <div class="head">
        <h2>
          {t('ticket.title', { n: tk.number })}
          {vehicle && <span data-testid="ticket-vehicle-name"> · {vehicle.name}</span>} <LevelBadge level={tk.level} />{' '}
          <StatusBadge status={tk.status} />
        </h2>
        <Countdown ticket={tk} now={now} />
      </div>
      <h3 class="ticket-title">{ticketTitle(tk, loc)}</h3>
      {tk.mergedInto !== null && (
        <p class="notice" data-testid="merged-into">
          <a href={`#/tickets/${tk.mergedInto}`}>
            {t('ticket.mergedInto', { n: d.mergedIntoNumber ?? `#${tk.mergedInto}` })}
          </a>
        </p>
      )}
      <div class="facts card">
        <Fact label={t(`ticket.source.${tk.source}` as MessageKey)}>{dateTime(tk.receivedAt)}</Fact>
        <Fact label={t('common.vehicle')}>
          {tk.vehicleId ? (
            <a href={`#/vehicles/${encodeURIComponent(tk.vehicleId)}`}>
              {vehicle ? `${vehicle.name} (${tk.vehicleId})` : tk.vehicleId}
            </a>
          ) : (
            '—'
          )}
        </Fact>
        {vehicle?.latest && (
          <Fact label={t('ticket.powerNow')}>
            <span data-testid="ticket-power-now">
              <SourceBadge source={vehicle.latest.source} online={vehicle.online} />{' '}
              <SocBar pct={vehicle.latest.batterySocPct} /> · {t('fleet.col.tte')}{' '}
              {timeToEmpty(vehicle.latest.timeToEmptyMin)}
            </span>
          </Fact>
        )}
        <Fact label={t('common.customer')}>{tk.customerId ?? '—'}</Fact>
        <Deadline
          label={t('ticket.workContentDue')}
          due={tk.workContentDueAt}
          done={tk.workContentDoneAt}
          breached={tk.breaches.includes('work_content')}
          now={now}
        />
        {tk.planDueAt !== null && (
          <Deadline
            label={t('ticket.planDue')}
            due={tk.planDueAt}
            done={tk.planDoneAt}
            breached={tk.breaches.includes('plan')}
            now={now}
          />
        )}
        <Fact label={t('tickets.col.assignee')}>{tk.assignee ? personName(tk.assignee) : t('ticket.unassigned')}</Fact>
        <Fact label={t('ticket.mode')}>
          <ModeLabel mode={tk.serviceMode} />
        </Fact>
        <Fact label={t('ticket.eta')}>
          <span data-testid="ticket-eta">
            {tk.eta !== null ? dateTime(tk.eta) : t('ticket.etaNone')}
            {tk.eta !== null && tk.etaNote ? ` — ${tk.etaNote}` : ''}
          </span>
        </Fact>
        <Fact label={t('ticket.place')}>
          <span data-testid="ticket-place">
            {tk.place ?? '—'} ·{' '}
            {tk.province ? t(`ticket.province.${tk.province}` as MessageKey) : t('ticket.province.none')}
          </span>
        </Fact>
        {!tk.deadlinesApply && <Fact label="⏱">{t('ticket.noDeadlines')}</Fact>}
        {tk.faultCode && <Fact label={t('ticket.fault')}>{tk.faultCode}</Fact>}
        <Fact label={t('ticket.report')}>
          <span data-testid="ticket-report">
            <a
              href={`/api/tickets/${tk.id}/report.html?lang=${getLang()}`}
              data-testid="ticket-report-html"
              target="_blank"
              rel="noopener noreferrer"
            >
              {t('ticket.reportView')}
            </a>{' '}
            ·{' '}
            <a href={`/api/tickets/${tk.id}/report.pdf?lang=${getLang()}`} data-testid="ticket-report-pdf" download>
              {t('ticket.reportPdf')}
            </a>
          </span>
        </Fact>
        {tk.escalatedTo && <Fact label="⚠">{t('ticket.escalatedTo', { who: tk.escalatedTo })}</Fact>}
      </div>

      <Classification ticket={tk} onDone={detail.reload} />
      <TicketTeam ticketId={tk.id} team={d.team} extraUrgent={tk.level === 'extra_urgent'} onSaved={detail.reload} />
      {d.plan?.recommendedMode === 'emergency_replacement' && tk.serviceMode !== 'emergency_replacement' && (
        <p class="safety" data-testid="emergency-recommendation">
          {t('ticket.emergencyRecommended')}
        </p>
      )}
      {role === 'customer' && tk.status === 'repaired' && <ConfirmRepair ticket={tk} onDone={detail.reload} />}
      {isStaff(role) && (
        <Actions
          ticket={tk}
          activeAlarms={d.alarms.filter((a) => a.state !== 'cleared').length}
          onDone={detail.reload}
        />
      )}
      <SameVehicle detail={d} now={now} onDone={detail.reload} />
      {tk.resolution && <ResolutionCard ticket={tk} />}
      <TicketAlarms alarms={d.alarms} />
      {isStaff(role) && <Pages ticketId={tk.id} onDone={detail.reload} />}

      <div class="two-col">
        <section class="card">
          <h3>{t('ticket.need')}</h3>
          <p class="pre">{needIn(tk, tk.need)}</p>
          <h3>{t('ticket.contacts')}</h3>
          <ul>
            {tk.contacts.map((c, i) => (
              <li key={i}>
                {c.name}
                {c.role ? ` (${c.role})` : ''} {c.phone && <a href={`tel:${c.phone}`}>{c.phone}</a>}
              </li>
            ))}
          </ul>
        </section>
        <section class="card">
          <h3>{role === 'customer' ? t('ticket.progress') : t('ticket.timeline')}</h3>
          <ol class="timeline" data-testid="timeline">
            {d.timeline.map((e, i) => (
              <li
                key={i}
                class={e.visibility === 'internal' && e.note ? 'internal-note' : undefined}
                data-visibility={e.visibility}
              >
                <span class="muted">{dateTime(e.at)}</span>{' '}
                <b title={e.actorName ? e.actor : undefined} data-testid="timeline-actor">
                  {e.actorName ?? personName(e.actor)}
                </b>{' '}
                {e.toStatus ? <StatusBadge status={e.toStatus} /> : <span>{timelineAction(e.action)}</span>}
                {e.note && <InternalBadge visibility={e.visibility} />}
                {e.note && (
                  <div class="pre">{e.action === 'received' ? needIn(tk, e.note) : timelineNote(e, meta)}</div>
                )}
              </li>
            ))}
          </ol>
          <CommentForm id={tk.id} onDone={detail.reload} />
        </section>
      </div>

      <ModeSteps ticket={tk} sessions={d.sessions} onDone={detail.reload} />
      <TicketSessions ticketId={tk.id} sessions={d.sessions} canStart={isStaff(role)} onDone={detail.reload} />

      {d.plan && (
        <section class="card plan" data-testid="plan">
          <h3>
            {t('ticket.plan', { code: d.plan.code, v: d.plan.version })} — {loc(d.plan.title)}
            {d.plan.overdue && <span class="badge sev-minor">{t('ticket.plan.overdue')}</span>}
          </h3>
          {d.plan.safety && <p class="safety">⚠ {loc(d.plan.safety)}</p>}
          <h4>{t('ticket.plan.checks')}</h4>
          <ol>
            {d.plan.remoteChecks.map((c, i) => (
              <li key={i}>{loc(c)}</li>
            ))}
          </ol>
          <h4>{t('ticket.plan.causes')}</h4>
          <ul>
            {d.plan.likelyCauses.map((c, i) => (
              <li key={i}>{loc(c)}</li>
            ))}
          </ul>
          {d.plan.parts.length > 0 && (
            <>
              <h4>{t('ticket.plan.parts')}</h4>
              <ul>
                {d.plan.parts.map((p) => (
                  <li key={p.partNo}>
                    {p.partNo} {loc(p.name)} × {p.qty}
                  </li>
                ))}
              </ul>
            </>
          )}
          <p>
            {t('ticket.plan.mode')}: <ModeLabel mode={d.plan.recommendedMode} />
          </p>
        </section>
      )}

      <SupportPlanPanel ticketId={tk.id} stamp={tk.updatedAt} onChange={reload} />
      <TicketStock ticketId={tk.id} />
      <TicketPartners ticketId={tk.id} />
      <TicketQuality ticketId={tk.id} />

      <section>
        <h3>{t('ticket.snapshot')}</h3>
        {d.snapshot && d.snapshot.ts.length ? <Snapshot detail={d} /> : <p class="muted">{t('ticket.noSnapshot')}</p>}
      </section>
      {tk.status === 'closed' && <SurveyPanel key={tk.id} ticketId={tk.id} />}
    </div>
  );
}

export function Deadline({
  label,
  due,
  done,
  breached,
  now,
}: {
  label: string;
  due: number;
  done: number | null;
  breached: boolean;
  now: number;
}) {
  const left = due - now;
  return (
    <Fact label={label}>
      {dateTime(due)}{' '}
      {done !== null ? (
        <span class={breached ? 'overdue' : 'ok'}>{t('ticket.done', { at: dateTime(done) })}</span>
      ) : (
        <span class={`countdown ${left < 0 ? 'overdue' : left < 5 * 60_000 ? 'soon' : 'ok'}`}>
          {left < 0 ? t('tickets.overdue', { d: countdown(left) }) : t('tickets.dueIn', { d: countdown(left) })}
        </span>
      )}
    </Fact>
  );
}

function Snapshot({ detail }: { detail: TicketDetail }) {
  const cols = useMemo(() => columnsFromSeries(detail.snapshot!), [detail.snapshot]);
  return (
    <div class="charts">
      {CHARTS.map((c) => (
        <Chart
          key={c.id}
          id={`snapshot-${c.id}`}
          title={t(c.title)}
          series={seriesDefs(c)}
          data={uplotData(cols, c)}
          {...axesOf(c)}
          height={160}
        />
      ))}
    </div>
  );
}

/** A ticket still being worked on: assignment, service mode and ETA can change (the server refuses the others). */
const OPEN = new Set(['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired']);

function Actions({ ticket, activeAlarms, onDone }: { ticket: Ticket; activeAlarms: number; onDone: () => void }) {
  const role = me().role;
  const meta = getMeta();
  const open = OPEN.has(ticket.status);
  const [note, setNote] = useState('');
  const [override, setOverride] = useState('');
  const [resolution, setResolution] = useState({ rootCause: '', workDone: '', parts: '' });
  const [visibility, setVisibility] = useState<'internal' | 'customer'>('internal');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [staff, setStaff] = useState<StaffMember[]>([]);
  const canAssign = role === 'admin' || role === 'dispatcher';
  useEffect(() => {
    if (canAssign)
      api.get<{ staff: StaffMember[] }>('/api/staff').then(
        (r) => setStaff(r.staff),
        (x) => setErr(errorText(x)),
      );
  }, [canAssign]);
  const allowed = Object.entries(meta.ticketActions).filter(
    ([action, a]) =>
      a.from.includes(ticket.status) &&
      a.roles.includes(role) &&
      action !== 'issue_plan' && // issued as a document: components/support-plan.tsx
      !(action === 'start_service' && ticket.level !== 'extra_urgent' && ticket.status !== 'plan_issued') &&
      // four-eyes: who marked it repaired does not verify it (the server refuses too)
      !(action === 'verify' && ticket.repairedBy === me().id),
  );
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      setNote('');
      setOverride('');
      setResolution({ rootCause: '', workDone: '', parts: '' });
      setVisibility('internal');
      onDone();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card actions-card" data-testid="ticket-actions">
      <h3>{t('ticket.actions')}</h3>
      <div class="toolbar">
        {allowed.map(([action]) => (
          <button
            type="button"
            key={action}
            class={action === 'cancel' ? 'danger' : 'primary'}
            disabled={busy}
            data-action={action}
            onClick={() =>
              run(() =>
                api.post(`/api/tickets/${ticket.id}/transitions`, {
                  action,
                  ...(note.trim() ? { note: note.trim(), visibility } : {}),
                  ...(action === 'mark_repaired'
                    ? {
                        resolution: {
                          rootCause: resolution.rootCause,
                          workDone: resolution.workDone,
                          partsUsed: resolution.parts
                            .split('\n')
                            .map((x) => x.trim())
                            .filter(Boolean),
                        },
                      }
                    : {}),
                  ...((action === 'verify' || action === 'close') && override.trim()
                    ? { alarmOverride: override.trim() }
                    : {}),
                }),
              )
            }
          >
            {t(`action.${action}` as MessageKey)}
          </button>
        ))}
        <input
          class="grow"
          placeholder={t('ticket.note')}
          value={note}
          maxLength={2000}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
        <VisibilityChoice name="transition-visibility" value={visibility} onChange={setVisibility} />
      </div>
      {allowed.some(([a]) => a === 'mark_repaired') && (
        <fieldset class="resolution-form" data-testid="resolution-form">
          <legend>{t('ticket.resolution')}</legend>
          <input
            class="grow"
            data-testid="resolution-root-cause"
            placeholder={t('ticket.rootCause')}
            aria-label={t('ticket.rootCause')}
            maxLength={2000}
            value={resolution.rootCause}
            onInput={(e) => setResolution({ ...resolution, rootCause: e.currentTarget.value })}
          />
          <input
            class="grow"
            data-testid="resolution-work-done"
            placeholder={t('ticket.workDone')}
            aria-label={t('ticket.workDone')}
            maxLength={4000}
            value={resolution.workDone}
            onInput={(e) => setResolution({ ...resolution, workDone: e.currentTarget.value })}
          />
          <textarea
            data-testid="resolution-parts"
            placeholder={t('ticket.partsUsed')}
            aria-label={t('ticket.partsUsed')}
            rows={2}
            value={resolution.parts}
            onInput={(e) => setResolution({ ...resolution, parts: e.currentTarget.value })}
          />
        </fieldset>
      )}
      {activeAlarms > 0 && allowed.some(([a]) => a === 'verify' || a === 'close') && (
        <div class="toolbar" data-testid="alarm-override">
          <span class="overdue">⚠ {t('ticket.alarmsActive', { n: activeAlarms })}</span>
          <input
            class="grow"
            data-testid="alarm-override-reason"
            placeholder={t('ticket.override')}
            aria-label={t('ticket.override')}
            maxLength={1000}
            value={override}
            onInput={(e) => setOverride(e.currentTarget.value)}
          />
        </div>
      )}
      {ticket.repairedBy && ticket.status === 'repaired' && (
        <p class="muted">{t('ticket.repairedBy', { who: personName(ticket.repairedBy) })}</p>
      )}
      {!open && (
        <p class="muted" data-testid="ticket-read-only">
          {t('ticket.readOnly')}
        </p>
      )}
      <div class="toolbar">
        {canAssign && (
          <label>
            {t('ticket.assign')}{' '}
            <select
              data-testid="assign-select"
              value={ticket.assignee ?? ''}
              disabled={busy || !open}
              onChange={(e) =>
                e.currentTarget.value &&
                run(() => api.post(`/api/tickets/${ticket.id}/assign`, { assignee: e.currentTarget.value }))
              }
            >
              <option value="">{t('ticket.unassigned')}</option>
              {staff.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({t(`role.${s.role}` as MessageKey)})
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('ticket.mode')}{' '}
          <select
            data-testid="service-mode-select"
            value={ticket.serviceMode ?? ''}
            disabled={busy || !open}
            onChange={(e) =>
              e.currentTarget.value &&
              run(() => {
                const mode = e.currentTarget.value;
                // emergency mode (紧急模式) only at the user's request: say who asked
                if (mode !== 'emergency_replacement')
                  return api.post(`/api/tickets/${ticket.id}/service-mode`, { mode });
                const userRequest = window.prompt(t('ticket.mode.userRequest'))?.trim();
                return userRequest
                  ? api.post(`/api/tickets/${ticket.id}/service-mode`, { mode, userRequest })
                  : Promise.resolve();
              })
            }
          >
            <option value="">—</option>
            {Object.entries(meta.serviceModes).map(([k, l]) => (
              <option key={k} value={k}>
                {loc(l)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <EtaForm ticket={ticket} busy={busy || !open} run={run} />
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </section>
  );
}

/**
 * The level: proposed by the customer or the rule, classified by the duty desk (市场部), which may
 * confirm or reclassify it with the reason; and the place with 省内/省外, confirmed by the desk.
 */
function Classification({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const role = me().role;
  const meta = getMeta();
  const desk = role === 'admin' || role === 'dispatcher';
  const [level, setLevel] = useState<string>(ticket.level);
  const [reason, setReason] = useState('');
  const [place, setPlace] = useState(ticket.place ?? '');
  const [province, setProvince] = useState<string>(ticket.province ?? '');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      setReason('');
      onDone();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" data-testid="classification" data-confirmed={ticket.levelConfirmedAt !== null ? 'yes' : 'no'}>
      <h3>{t('ticket.classify')}</h3>
      <p>
        {t('ticket.proposed')}: {ticket.proposedLevel ? <LevelBadge level={ticket.proposedLevel} /> : '—'} ·{' '}
        <span data-testid="classified-state">
          {ticket.levelConfirmedAt !== null
            ? t('ticket.classified', {
                who: personName(ticket.levelConfirmedBy),
                at: dateTime(ticket.levelConfirmedAt),
              })
            : t('ticket.unclassified')}
        </span>
      </p>
      {desk && (
        <form
          class="toolbar"
          data-testid="classify-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() =>
              api.post(
                `/api/tickets/${ticket.id}/classify`,
                reason.trim() ? { level, reason: reason.trim() } : { level },
              ),
            );
          }}
        >
          <select name="level" value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
            {Object.entries(meta.ticketLevels).map(([k, l]) => (
              <option key={k} value={k}>
                {loc(l)}
              </option>
            ))}
          </select>
          <input
            class="grow"
            name="reason"
            placeholder={t('ticket.classify.reason')}
            maxLength={500}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <button type="submit" class="primary" disabled={busy}>
            {t('ticket.classify.submit')}
          </button>
        </form>
      )}
      {desk && (
        <form
          class="toolbar"
          data-testid="site-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() =>
              api.post(`/api/tickets/${ticket.id}/site`, {
                place: place.trim() || null,
                province: province || null,
              }),
            );
          }}
        >
          <input
            class="grow"
            name="place"
            placeholder={t('ticket.place')}
            maxLength={300}
            value={place}
            onInput={(e) => setPlace(e.currentTarget.value)}
          />
          <select name="province" value={province} onChange={(e) => setProvince(e.currentTarget.value)}>
            <option value="">{t('ticket.province.none')}</option>
            <option value="in">{t('ticket.province.in')}</option>
            <option value="out">{t('ticket.province.out')}</option>
          </select>
          <button type="submit" disabled={busy}>
            {t('ticket.site.submit')}
          </button>
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

/** The customer side confirms the repair (双方确认), with a remark for both sides. */
function ConfirmRepair({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const [note, setNote] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="card toolbar"
      data-testid="confirm-repair"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setErr(null);
        api
          .post(
            `/api/tickets/${ticket.id}/transitions`,
            note.trim() ? { action: 'verify', note: note.trim() } : { action: 'verify' },
          )
          .then(onDone, (x: unknown) => setErr(errorText(x)))
          .finally(() => setBusy(false));
      }}
    >
      <span>{t('ticket.confirmRepair.hint')}</span>
      <input class="grow" name="note" maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      <button type="submit" class="primary" disabled={busy}>
        {t('ticket.confirmRepair')}
      </button>
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </form>
  );
}

/** A local date-time as a date-time field takes it (components/date-input.tsx). */
const localInput = (ts: number) => {
  const d = new Date(ts - new Date(ts).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

function EtaForm({
  ticket,
  busy,
  run,
}: {
  ticket: Ticket;
  busy: boolean;
  run: (fn: () => Promise<unknown>) => Promise<void>;
}) {
  const [at, setAt] = useState(localInput(ticket.eta ?? Date.now() + 60 * 60_000));
  const [note, setNote] = useState(ticket.etaNote ?? '');
  return (
    <form
      class="toolbar"
      data-testid="eta-form"
      onSubmit={(e) => {
        e.preventDefault();
        const eta = new Date(at).getTime();
        void run(() => api.post(`/api/tickets/${ticket.id}/eta`, note.trim() ? { eta, note: note.trim() } : { eta }));
      }}
    >
      <label>
        {t('ticket.eta')}{' '}
        <DateTimeInput
          kind="datetime"
          required
          disabled={busy}
          value={at}
          onInput={(e) => setAt(e.currentTarget.value)}
        />
      </label>
      <input
        class="grow"
        placeholder={t('ticket.etaNote')}
        disabled={busy}
        maxLength={500}
        value={note}
        onInput={(e) => setNote(e.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        {t('ticket.etaSet')}
      </button>
    </form>
  );
}

/** The ticket's pages with their state; an open one can be acknowledged here. */
function Pages({ ticketId, onDone }: { ticketId: number; onDone: () => void }) {
  const pages = useLoad(() => api.get<{ pages: StaffPage[] }>(`/api/tickets/${ticketId}/pages`), [ticketId]);
  const [err, setErr] = useState<string | null>(null);
  const list = pages.data?.pages ?? [];
  if (list.length === 0) return null;
  return (
    <section class="card" data-testid="ticket-pages">
      <h3>{t('ticket.pages')}</h3>
      <ul>
        {list.map((p) => (
          <li key={p.id}>
            <span class="muted">{dateTime(p.pagedAt)}</span> {p.message} — {t('page.to', { who: p.accountId })} ·{' '}
            {t(`page.state.${p.state}` as MessageKey)}{' '}
            {p.state === 'open' && (
              <button
                type="button"
                class="primary"
                data-testid={`ack-page-${p.id}`}
                onClick={() =>
                  api.post(`/api/pages/${p.id}/ack`, {}).then(
                    () => {
                      pages.reload();
                      onDone();
                    },
                    (x) => setErr(errorText(x)),
                  )
                }
              >
                {t('page.ack')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {err && <div class="error">{err}</div>}
    </section>
  );
}

/** Staff choose who reads the comment (internal by default); a customer's comments are always for its unit. */
function CommentForm({ id, onDone }: { id: number; onDone: () => void }) {
  const staff = isStaff(me().role);
  const [text, setText] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'customer'>('internal');
  const [err, setErr] = useState<string | null>(null);
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await api.post(`/api/tickets/${id}/comments`, staff ? { text, visibility } : { text });
          setText('');
          setVisibility('internal');
          setErr(null);
          onDone();
        } catch (x) {
          setErr(errorText(x));
        }
      }}
    >
      <input
        class="grow"
        placeholder={t('ticket.addComment')}
        required
        maxLength={4000}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      {staff && <VisibilityChoice name="comment-visibility" value={visibility} onChange={setVisibility} />}
      <button type="submit">{t('common.add')}</button>
      {err && <span class="error-inline">{err}</span>}
    </form>
  );
}

/**
 * The ticket's vehicle as it is now (name, source, charge, time to empty), kept current from the
 * live channel's fleet updates; null without a vehicle or until it loaded.
 */
function useVehicleNow(vehicleId: string | null): VehicleState | null {
  const [v, setV] = useState<VehicleState | null>(null);
  useEffect(() => {
    setV(null);
    if (!vehicleId) return;
    let alive = true;
    const load = () =>
      api.get<VehicleState>(`/api/vehicles/${encodeURIComponent(vehicleId)}`).then(
        (x) => alive && setV(x),
        () => undefined, // a customer's ticket without a vehicle of its own: no power facts
      );
    void load();
    const offResync = onLive('resync', () => void load()); // changes missed while disconnected
    const off = onLive('fleet', (m) => {
      const e = m.vehicles.find((x) => x.id === vehicleId);
      if (!e) return;
      setV((cur) =>
        cur
          ? {
              ...cur,
              ...(e.online !== undefined ? { online: e.online } : {}),
              ...(e.latest ? { latest: mergeSummary(cur.latest, e.latest) } : {}),
            }
          : cur,
      );
    });
    return () => {
      alive = false;
      off();
      offResync();
    };
  }, [vehicleId]);
  return v;
}

/** The other open tickets of the vehicle side by side (the duty desk may merge this one into one of them), and those merged into it. */
function SameVehicle({ detail, now, onDone }: { detail: TicketDetail; now: number; onDone: () => void }) {
  const [err, setErr] = useState<string | null>(null);
  const tk = detail.ticket;
  const role = me().role;
  const canMerge = (role === 'admin' || role === 'dispatcher') && OPEN.has(tk.status);
  if (detail.sameVehicle.length === 0 && detail.mergedFrom.length === 0) return null;
  const merge = async (into: Ticket) => {
    if (!confirm(t('ticket.mergeConfirm', { a: tk.number, b: into.number }))) return;
    try {
      await api.post(`/api/tickets/${tk.id}/merge`, { into: into.id });
      setErr(null);
      onDone();
    } catch (x) {
      setErr(errorText(x));
    }
  };
  return (
    <section class="card" data-testid="same-vehicle">
      {detail.sameVehicle.length > 0 && (
        <>
          <h3>{t('ticket.sameVehicle')}</h3>
          <div class="side-by-side">
            {detail.sameVehicle.map((o) => (
              <div class="card" key={o.id} data-testid={`same-vehicle-${o.number}`}>
                <p>
                  <a href={`#/tickets/${o.id}`}>{o.number}</a> <LevelBadge level={o.level} />{' '}
                  <StatusBadge status={o.status} /> <Countdown ticket={o} now={now} />
                </p>
                <p>{ticketTitle(o, loc)}</p>
                {canMerge && (
                  <button type="button" data-testid={`merge-into-${o.number}`} onClick={() => void merge(o)}>
                    {t('ticket.mergeInto', { n: o.number })}
                  </button>
                )}
              </div>
            ))}
          </div>
        </>
      )}
      {detail.mergedFrom.length > 0 && (
        <p data-testid="merged-from">
          {t('ticket.mergedFrom')}:{' '}
          {detail.mergedFrom.map((m, i) => (
            <span key={m.id}>
              {i > 0 && ', '}
              <a href={`#/tickets/${m.id}`}>{m.number}</a>
            </span>
          ))}
        </p>
      )}
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </section>
  );
}

/** What was found and done (given when marked repaired). */
function ResolutionCard({ ticket }: { ticket: Ticket }) {
  const r = ticket.resolution!;
  return (
    <section class="card" data-testid="resolution">
      <h3>{t('ticket.resolution')}</h3>
      <Fact label={t('ticket.rootCause')}>{r.rootCause}</Fact>
      <Fact label={t('ticket.workDone')}>{r.workDone}</Fact>
      <Fact label={t('ticket.partsUsed')}>{r.partsUsed.length ? r.partsUsed.join('; ') : '—'}</Fact>
    </section>
  );
}

/** The ticket's alarms (its incident's and those of tickets merged into it): what must clear before it closes. */
function TicketAlarms({ alarms }: { alarms: TicketAlarm[] }) {
  if (alarms.length === 0) return null;
  return (
    <section class="card" data-testid="ticket-alarms">
      <h3>{t('ticket.alarms')}</h3>
      <ul>
        {alarms.map((a) => (
          <li key={a.id} data-alarm={a.id} data-state={a.state}>
            <span class="muted">{dateTime(a.raisedAt)}</span> <b>{a.code}</b> {t(`alarmState.${a.state}` as MessageKey)}
            {a.clearedAt !== null && <span class="muted"> · {dateTime(a.clearedAt)}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
