/**
 * `#/sessions/:id`, a remote support session (远程支援): the engineer's desk layout (the four
 * power sections charted live at the full rate, active alarms, the ticket's deadlines, the guided
 * steps, commands, chat, participants; answer / join / leave / end with the outcome) and the crew's
 * phone layout (the current step in big type, Done and What I see, chat, a few key values).
 * The state comes from the live channel (session-state.ts); a reload rejoins where it was.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { AlarmTable } from '../components/alarm-table.tsx';
import { ErrorBox, SourceBadge } from '../components/badges.tsx';
import { Chart } from '../components/chart.tsx';
import { CommandPanel } from '../components/command-panel.tsx';
import { SessionChat } from '../components/session-chat.tsx';
import { SessionInvites } from '../components/session-invites.tsx';
import { CrewStep, EngineerSteps } from '../components/session-steps.tsx';
import { axesOf, fieldOf, seriesDefs, uplotData, type ChartDef } from '../charts.ts';
import { dateTime, duration, num } from '../format.ts';
import { useLoad, useNow, useThrottled } from '../hooks.ts';
import { personName, t, useLang, type MessageKey } from '../i18n.ts';
import { chartLimits, limitText, pastLimits } from '../limits.ts';
import { onLive, watchVehicle } from '../live.ts';
import { SESSION_CHARTS } from '../session-charts.ts';
import { useRemoteSession, type RemoteSessionState } from '../session-state.ts';
import { isGuest, isStaff, me } from '../session.ts';
import type {
  Alarm,
  FieldLimit,
  RemoteSession,
  TelemetryFrame,
  TicketDetail,
  VehicleLimits,
  VehicleState,
} from '../types.ts';
import { Deadline } from './ticket.tsx';
import './session.css';

const OUTCOMES = ['resolved_remotely', 'escalated_on_site', 'crew_unreachable'] as const;

export function SessionView({ id }: { id: string }) {
  useLang();
  const sessionId = Number(id);
  const st = useRemoteSession(sessionId);
  if (st.error) return <ErrorBox error={new Error(st.error)} />;
  if (!st.session) return <p class="muted">{t('common.loading')}</p>;
  return !isGuest() && isStaff(me().role) ? (
    <EngineerLayout st={st} session={st.session} />
  ) : (
    <CrewLayout st={st} session={st.session} />
  );
}

function Head({ session }: { session: RemoteSession }) {
  return (
    <div class="head">
      <h2>
        {t('session.title', { id: session.id })}{' '}
        <span class={`badge session-${session.status}`} data-testid="session-status" data-status={session.status}>
          {t(`remote.status.${session.status}` as MessageKey)}
        </span>
        {session.outcome && (
          <span class="muted" data-testid="session-outcome">
            {' '}
            · {t(`remote.outcome.${session.outcome}` as MessageKey)}
          </span>
        )}
      </h2>
      {/* the printable record is for accounts, not for an invited guest */}
      {!isGuest() && (
        <a
          href={`/api/sessions/${session.id}/record.html`}
          target="_blank"
          rel="noopener noreferrer"
          data-testid="record-link"
        >
          {t('remote.record')}
        </a>
      )}
    </div>
  );
}

/** The newest value of a field: from the newest live frame, else the newest point of the history. */
function newest(st: RemoteSessionState, path: string): number | null {
  if (st.latest) return fieldOf(st.latest, path);
  const col = st.cols.values[path] ?? [];
  return col.length ? (col[col.length - 1] ?? null) : null;
}

/** The newest value of each field of a chart, with its unit; a value past a limit is marked with it. */
function Values({ def, st, limits }: { def: ChartDef; st: RemoteSessionState; limits: FieldLimit[] }) {
  return (
    <p class="values" data-testid={`values-${def.id}`}>
      {def.fields.map((f) => {
        const v = newest(st, f.path);
        const past = pastLimits(f.path, v, limits, st.latest)[0];
        return (
          <span key={f.path} class="value">
            <span class="muted">{t(f.label)}</span>{' '}
            <b
              data-field={f.path}
              class={past ? `past-limit severity-${past.severity}` : undefined}
              data-past-limit={past?.code}
              title={past ? limitText(past, f.unit) : undefined}
            >
              {num(v, 1, f.unit)}
            </b>
          </span>
        );
      })}
    </p>
  );
}

/** The vehicle's profile, against which the limits are set, for the chart it concerns. */
function profileOf(def: ChartDef, v: VehicleState | undefined): string {
  if (!v) return '';
  const mains = t('vehicle.mainsProfile', { v: v.profile.mains.nominalV, hz: v.profile.mains.frequencyHz });
  if (def.id === 'mains') return mains;
  if (def.id === 'generator') return v.profile.hasGenerator ? mains : t('vehicle.noGenerator');
  if (def.id === 'battery')
    return t('vehicle.batteryProfile', { v: v.profile.battery.nominalV, ah: v.profile.battery.capacityAh });
  return '';
}

/** A chart's limits in words: each rule's band on the fields it shows. */
function LimitsCaption({ def, limits }: { def: ChartDef; limits: FieldLimit[] }) {
  const mine = limits.filter((l) => def.fields.some((f) => f.path === l.field));
  if (!mine.length) return null;
  return (
    <ul class="limits muted" data-testid={`limits-${def.id}`}>
      {mine.map((l) => (
        <li key={`${l.ruleId}-${l.field}`} data-rule={l.ruleId} class={`severity-${l.severity}`}>
          {limitText(l, def.fields.find((f) => f.path === l.field)?.unit ?? '')}
        </li>
      ))}
    </ul>
  );
}

function SessionCharts({
  st,
  vehicle,
  limits,
}: {
  st: RemoteSessionState;
  vehicle: VehicleState | undefined;
  limits: FieldLimit[];
}) {
  return (
    <div class="session-charts" data-testid="session-charts">
      {SESSION_CHARTS.map((c) => (
        <div key={c.id} class="session-chart">
          <Chart
            id={`session-${c.id}`}
            title={t(c.title)}
            series={seriesDefs(c)}
            data={uplotData(st.cols, c)}
            {...axesOf(c)}
            height={170}
            limits={chartLimits(c, limits)}
          />
          <Values def={c} st={st} limits={limits} />
          {profileOf(c, vehicle) && (
            <p class="muted profile">
              {t('vehicle.profile')}: {profileOf(c, vehicle)}
            </p>
          )}
          <LimitsCaption def={c} limits={limits} />
        </div>
      ))}
    </div>
  );
}

function Participants({ session }: { session: RemoteSession }) {
  return (
    <section class="card" data-testid="participants">
      <h3>{t('session.participants')}</h3>
      <ul class="participants">
        {session.participants.map((p) => (
          <li key={`${p.role}-${p.id}`} data-present={p.leftAt === null}>
            <span class={`presence ${p.leftAt === null ? 'on' : 'off'}`} aria-hidden="true" /> {personName(p.name)}{' '}
            <span class="muted">
              · {t(`session.role.${p.role}` as MessageKey)} ·{' '}
              {p.leftAt === null ? t('session.present') : t('session.leftAt', { at: dateTime(p.leftAt) })}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Actions({ st, session }: { st: RemoteSessionState; session: RemoteSession }) {
  const [outcome, setOutcome] = useState<(typeof OUTCOMES)[number]>('resolved_remotely');
  const [note, setNote] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const mine = session.participants.find((p) => p.id === me().id);
  const inIt = mine !== undefined && mine.leftAt === null;
  const act = async (path: string, body: unknown = {}) => {
    try {
      const res = await api.post<{ session: RemoteSession }>(`/api/sessions/${session.id}/${path}`, body);
      st.setSession(res.session);
      setErr(null);
    } catch (x) {
      setErr(errorText(x));
    }
  };
  if (session.status === 'ended') return null;
  return (
    <section class="card session-actions" data-testid="session-actions">
      <div class="toolbar">
        {(session.status === 'ringing' || session.status === 'requested') && (
          <button type="button" class="primary" data-testid="session-answer" onClick={() => void act('answer')}>
            {t('session.answer')}
          </button>
        )}
        {session.status === 'live' && !inIt && (
          <button type="button" data-testid="session-join" onClick={() => void act('join')}>
            {t('session.join')}
          </button>
        )}
        {inIt && (
          <button type="button" data-testid="session-leave" onClick={() => void act('leave')}>
            {t('session.leave')}
          </button>
        )}
      </div>
      {session.status === 'live' && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('end', { outcome, ...(note.trim() ? { note: note.trim() } : {}) });
          }}
        >
          <label>
            {t('session.outcome')}{' '}
            <select
              value={outcome}
              data-testid="session-outcome-select"
              onChange={(e) => setOutcome(e.currentTarget.value as (typeof OUTCOMES)[number])}
            >
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {t(`remote.outcome.${o}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <input
            maxLength={2000}
            placeholder={t('session.note')}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
          <button type="submit" class="danger" data-testid="session-end">
            {t('session.end')}
          </button>
        </form>
      )}
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </section>
  );
}

/** The ticket's deadlines and the vehicle's active alarms. */
function TicketAndAlarms({ session }: { session: RemoteSession }) {
  const now = useNow(1000);
  const ticket = useLoad(() => api.get<TicketDetail>(`/api/tickets/${session.ticketId}`), [session.ticketId]);
  const alarms = useLoad(
    () => api.get<{ alarms: Alarm[] }>('/api/alarms', { vehicleId: session.vehicleId, limit: 100 }),
    [session.vehicleId],
  );
  const reload = useThrottled(alarms.reload, 1000);
  const reloadTicket = useThrottled(ticket.reload, 1000);
  useEffect(() => {
    const offA = onLive('alarm', (m) => m.alarm.vehicleId === session.vehicleId && reload());
    const offT = onLive('ticket', (m) => m.ticket.id === session.ticketId && reloadTicket());
    return () => {
      offA();
      offT();
    };
  }, [session.vehicleId, session.ticketId]);
  const tk = ticket.data?.ticket;
  const active = alarms.data?.alarms.filter((a) => a.state !== 'cleared') ?? [];
  return (
    <section class="card" data-testid="session-ticket">
      <h3>
        <a href={`#/tickets/${session.ticketId}`}>
          {tk ? t('ticket.title', { n: tk.number }) : `#${session.ticketId}`}
        </a>
      </h3>
      <p>{session.description}</p>
      {tk && (
        <div class="facts">
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
        </div>
      )}
      <h3>{t('session.activeAlarms')}</h3>
      <AlarmTable alarms={active} canAct={false} onChanged={reload} showVehicle={false} />
    </section>
  );
}

function EngineerLayout({ st, session }: { st: RemoteSessionState; session: RemoteSession }) {
  const vehicle = useLoad(
    () => api.get<VehicleState>(`/api/vehicles/${encodeURIComponent(session.vehicleId)}`),
    [session.vehicleId],
  );
  const limits = useLoad(
    () => api.get<VehicleLimits>(`/api/vehicles/${encodeURIComponent(session.vehicleId)}/limits`),
    [session.vehicleId],
  );
  // command outcomes arrive on the vehicle's room
  useEffect(() => watchVehicle(session.vehicleId), [session.vehicleId]);
  const now = useNow(1000);
  const live = session.status === 'live';
  const waited =
    (session.answeredAt ?? (session.status === 'ended' ? (session.endedAt ?? now) : now)) - session.requestedAt;
  return (
    <div class="view session-engineer" data-testid="session-view" data-layout="engineer" data-session={session.id}>
      <Head session={session} />
      <p class="muted">
        <a href={`#/vehicles/${encodeURIComponent(session.vehicleId)}`}>{session.vehicleId}</a>
        {vehicle.data && ` ${vehicle.data.name}`} · {t('session.requestedAt', { at: dateTime(session.requestedAt) })} ·{' '}
        {t(session.answeredAt ? 'session.answeredIn' : 'session.waiting', { d: duration(waited) })}
      </p>
      <div class="session-grid">
        <div class="session-main">
          <SessionCharts st={st} vehicle={vehicle.data} limits={limits.data?.limits ?? []} />
          {live && vehicle.data && (
            <>
              <h3>{t('cmd.title')}</h3>
              <CommandPanel
                vehicleId={session.vehicleId}
                vehicleName={vehicle.data.name}
                online={vehicle.data.online}
                sessionId={session.id}
              />
            </>
          )}
        </div>
        <div class="session-side">
          <Actions st={st} session={session} />
          <EngineerSteps sessionId={session.id} steps={st.steps} canAct={live} onSteps={st.setSteps} />
          <SessionChat
            session={session}
            timeline={st.timeline}
            canWrite={session.status !== 'ended'}
            onSent={(e) => st.addEntries([e])}
          />
          <Participants session={session} />
          {session.status !== 'ended' && <SessionInvites sessionId={session.id} />}
          <TicketAndAlarms session={session} />
          <Timeline st={st} />
        </div>
      </div>
    </div>
  );
}

type Entry = RemoteSessionState['timeline'][number];
const RING_STEPS = ['primary', 'secondary', 'duty_lead'] as const;
/** The platform's words for each ring step (remote/ringing.ts RING_TEXT), to tell the step from the entry. */
const RING_EN: Record<(typeof RING_STEPS)[number], string> = {
  primary: 'ringing the engineer on duty',
  secondary: 'no answer: ringing the secondary engineer on duty',
  duty_lead: 'ringing the duty lead',
};

/**
 * An entry's words in the console's language, from its kind and structured data: the platform
 * writes its own entries in English ("Engineer joined as observer", "step 2: passed"). What
 * people wrote (a description, an observation, a note) is shown as written.
 */
function entryText(e: Entry): string | null {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const text = e.text ?? '';
  const cmd = (name: unknown) => t(`cmd.name.${String(name)}` as MessageKey);
  switch (e.kind) {
    case 'joined':
      return typeof data.role === 'string'
        ? t('session.entry.joinedAs', { role: t(`session.role.${data.role}` as MessageKey) })
        : text;
    case 'left':
      return null;
    case 'ring': {
      const step = RING_STEPS.find((s) => text.startsWith(`${RING_EN[s]}: `));
      if (!step) return text;
      const who = text
        .slice(RING_EN[step].length + 2)
        .split(', ')
        .map(personName)
        .join('、');
      return `${t(`session.entry.ring.${step}`)}: ${who}`;
    }
    case 'status':
      if (text === 'requested' || text.startsWith('requested: '))
        return `${t('session.entry.requested')}${text.length > 10 ? `: ${text.slice(11)}` : ''}`;
      if (typeof data.to !== 'string') return text;
      if (typeof data.outcome === 'string') {
        const note = typeof data.note === 'string' && data.note ? ` (${data.note})` : '';
        return `${t(`remote.status.${data.to}` as MessageKey)}: ${t(`remote.outcome.${data.outcome}` as MessageKey)}${note}`;
      }
      return t(`remote.status.${data.to}` as MessageKey);
    case 'command':
      return typeof data.name === 'string' ? cmd(data.name) : text;
    case 'ack': {
      if (typeof data.name !== 'string' || typeof data.state !== 'string') return text;
      const err = typeof data.error === 'string' ? ` ${data.error}` : '';
      return `${cmd(data.name)}: ${t(`cmd.state.${data.state}` as MessageKey)}${err}`;
    }
    case 'step': {
      if (typeof data.index !== 'number' || typeof data.status !== 'string') return text;
      const said = typeof data.observation === 'string' && data.observation ? ` — ${data.observation}` : '';
      const status = t(`session.step.${data.status}` as MessageKey);
      return `${t('session.entry.step', { n: data.index + 1, status })}${said}`;
    }
    default:
      return text || null;
  }
}

/** Everything else on the timeline (statuses, rings, joins, steps, commands), newest last. */
function Timeline({ st }: { st: RemoteSessionState }) {
  const entries = st.timeline.filter((e) => e.kind !== 'chat' && e.kind !== 'photo');
  return (
    <section class="card" data-testid="session-timeline">
      <h3>{t('session.timeline')}</h3>
      <ol class="timeline">
        {entries.map((e) => (
          <li key={e.seq} data-kind={e.kind}>
            <span class="muted">{dateTime(e.at)}</span> {personName(e.actorName)} ·{' '}
            {t(`session.kind.${e.kind}` as MessageKey)}
            {entryText(e) ? ` — ${entryText(e)}` : ''}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Source, battery %, generator rpm and load, from the newest frame. */
/** One of the crew's key values, marked (and explained) when past one of the vehicle's limits. */
function Kv({
  frame,
  path,
  label,
  digits,
  unit,
  limits,
}: {
  frame: TelemetryFrame | null;
  path: string;
  label: MessageKey;
  digits: number;
  unit: string;
  limits: FieldLimit[];
}) {
  const v = frame ? fieldOf(frame, path) : null;
  const past = pastLimits(path, v, limits, frame)[0];
  return (
    <div>
      <span class="muted">{t(label)}</span>
      <b
        data-field={path}
        class={past ? `past-limit severity-${past.severity}` : undefined}
        data-past-limit={past?.code}
        title={past ? limitText(past, unit) : undefined}
      >
        {num(v, digits, unit)}
      </b>
    </div>
  );
}

function KeyValues({ frame, limits }: { frame: TelemetryFrame | null; limits: FieldLimit[] }) {
  return (
    <div class="key-values" data-testid="key-values">
      <div>
        <span class="muted">{t('fleet.col.source')}</span>
        <SourceBadge source={frame?.source} online={frame !== null} />
      </div>
      <Kv frame={frame} path="battery.socPct" label="session.kv.soc" digits={0} unit="%" limits={limits} />
      <Kv frame={frame} path="generator.rpm" label="session.kv.rpm" digits={0} unit="rpm" limits={limits} />
      <Kv frame={frame} path="loadKw" label="session.kv.load" digits={1} unit="kW" limits={limits} />
    </div>
  );
}

function CrewLayout({ st, session }: { st: RemoteSessionState; session: RemoteSession }) {
  const lead = session.participants.find((p) => p.role === 'lead');
  // an invited guest sees the session's live values only, not the vehicle's records
  const limits = useLoad(
    () =>
      isGuest()
        ? Promise.resolve({ limits: [] as FieldLimit[] })
        : api.get<VehicleLimits>(`/api/vehicles/${encodeURIComponent(session.vehicleId)}/limits`),
    [session.vehicleId],
  );
  return (
    <div class="view session-crew" data-testid="session-view" data-layout="crew" data-session={session.id}>
      <Head session={session} />
      <p class="crew-state" data-testid="crew-state">
        {session.status === 'live'
          ? t('session.crew.live', { who: personName(lead?.name ?? '') })
          : session.status === 'ended'
            ? t('session.crew.ended')
            : t('session.crew.waiting')}
      </p>
      {session.status === 'live' && <CrewStep sessionId={session.id} steps={st.steps} onSteps={st.setSteps} />}
      <KeyValues frame={st.latest} limits={limits.data?.limits ?? []} />
      <SessionChat
        session={session}
        timeline={st.timeline}
        canWrite={session.status !== 'ended'}
        onSent={(e) => st.addEntries([e])}
      />
    </div>
  );
}
