/**
 * Each service order kind's own records in the console: 巡检巡修 visits (per vehicle: state found,
 * readings, findings with severity, work done, parts) and a finding's ticket or follow-up; 技术培训
 * materials, attendees with their assessment, and sessions; 伴随保障 the daily log. Staff record;
 * the customer reads (no internal notes).
 */
import { useState } from 'preact/hooks';
import type { OrderRecord, RecordBody } from '../../../../diagnostics/service-orders/order-records.ts';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { personName, t, type MessageKey } from '../i18n.ts';
import { DateTimeInput } from './date-input.tsx';

type Kind = 'patrol_inspection' | 'training' | 'accompanying_support';
type Rec<T extends RecordBody['type']> = Omit<OrderRecord, 'body'> & { body: Extract<RecordBody, { type: T }> };

const SEVERITIES = ['info', 'minor', 'major', 'critical'] as const;
const sevLabel = (s: string) => t(`orders.severity.${s}` as MessageKey);
/** A local date-time as a date-time field takes it (components/date-input.tsx). */
const localInput = (ts: number) => new Date(ts - new Date(ts).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function useSubmit(orderId: number, onSaved: () => void) {
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const send = async (path: string, body: object): Promise<boolean> => {
    setBusy(true);
    setErr(null);
    try {
      await api.post(`/api/service-orders/${orderId}${path}`, body);
      onSaved();
      return true;
    } catch (x) {
      setErr(errorText(x));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const errBox = err && (
    <div class="error" role="alert">
      {err}
    </div>
  );
  return { send, busy, errBox };
}

export function OrderRecords(props: {
  orderId: number;
  kind: Kind;
  status: string;
  records: OrderRecord[];
  /** Staff record; the customer reads. */
  canRecord: boolean;
  onSaved: () => void;
}) {
  const of = <T extends RecordBody['type']>(type: T) => props.records.filter((r) => r.body.type === type) as Rec<T>[];
  const live = props.status === 'in_progress';
  const preparing = ['requested', 'scheduled', 'in_progress'].includes(props.status);
  if (props.kind === 'patrol_inspection')
    return (
      <Visits
        {...props}
        visits={of('visit')}
        canAdd={props.canRecord && live}
        canLink={props.canRecord && props.status !== 'cancelled'}
      />
    );
  if (props.kind === 'training')
    return (
      <Training
        {...props}
        materials={of('material')}
        attendees={of('attendee')}
        sessions={of('session')}
        assessments={of('assessment')}
        canPrepare={props.canRecord && preparing}
        canHold={props.canRecord && live}
      />
    );
  return <DutyLog {...props} logs={of('log')} canAdd={props.canRecord && live} />;
}

function Visits(props: {
  orderId: number;
  visits: Rec<'visit'>[];
  canAdd: boolean;
  canLink: boolean;
  onSaved: () => void;
}) {
  const { send, busy, errBox } = useSubmit(props.orderId, props.onSaved);
  const blank = {
    target: '',
    at: localInput(Date.now()),
    stateFound: '',
    readings: '',
    workDone: '',
    parts: '',
    internalNote: '',
  };
  const [f, setF] = useState(blank);
  const [findings, setFindings] = useState<{ text: string; severity: string; needsRepair: boolean }[]>([]);
  const set = (k: keyof typeof f) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (e: Event) => {
    e.preventDefault();
    const target = f.target.trim();
    // a vehicle id (letters, digits, - _) or equipment named in words
    const isVehicle = /^[A-Za-z0-9_-]{1,64}$/.test(target);
    const ok = await send('/records', {
      type: 'visit',
      ...(isVehicle ? { vehicleId: target } : { equipment: target }),
      at: new Date(f.at).getTime(),
      stateFound: f.stateFound,
      ...(f.readings.trim() ? { readings: f.readings.trim() } : {}),
      ...(f.workDone.trim() ? { workDone: f.workDone.trim() } : {}),
      findings: findings.filter((x) => x.text.trim()).map((x) => ({ ...x, text: x.text.trim() })),
      parts: f.parts
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => {
          const m = /^(.*?)\s*[×x*]\s*(\d+(?:\.\d+)?)$/.exec(l);
          return m ? { name: m[1]!, quantity: Number(m[2]) } : { name: l };
        }),
      ...(f.internalNote.trim() ? { internalNote: f.internalNote.trim() } : {}),
    });
    if (ok) {
      setF(blank);
      setFindings([]);
    }
  };
  return (
    <section class="card" data-testid="order-visits">
      <h3>{t('orders.visits')}</h3>
      {props.visits.length === 0 && <p class="muted">{t('orders.noVisits')}</p>}
      {props.visits.map((v, i) => (
        <div class="card" key={v.id} data-testid="order-visit">
          <b>
            {t('orders.visit')} {i + 1} · {dateTime(v.body.at)} · {v.body.vehicleId ?? v.body.equipment}
          </b>{' '}
          <span class="muted">{personName(v.actor)}</span>
          <div>
            {t('orders.stateFound')}: {v.body.stateFound}
          </div>
          {v.body.readings && (
            <div>
              {t('orders.readings')}: {v.body.readings}
            </div>
          )}
          {v.body.workDone && (
            <div>
              {t('orders.workDone')}: {v.body.workDone}
            </div>
          )}
          {v.body.parts.length > 0 && (
            <div>
              {t('orders.parts')}:{' '}
              {v.body.parts.map((p) => `${p.name}${p.quantity !== null ? ` × ${p.quantity}` : ''}`).join(', ')}
            </div>
          )}
          {v.internalNote && <div class="muted">🔒 {v.internalNote}</div>}
          <ul>
            {v.body.findings.map((x, j) => (
              <li key={j} data-testid="order-finding" data-severity={x.severity}>
                [{sevLabel(x.severity)}] {x.text}
                {x.link ? (
                  <span class="badge" data-testid="finding-link">
                    {' '}
                    →{' '}
                    {x.link.kind === 'ticket' ? (
                      <a href={`#/tickets/${x.link.ticketId}`}>{x.link.number}</a>
                    ) : (
                      <a href={`#/orders/${x.link.orderId}`}>{x.link.number}</a>
                    )}
                  </span>
                ) : (
                  props.canLink &&
                  x.needsRepair && (
                    <span>
                      {' '}
                      <button
                        type="button"
                        disabled={busy}
                        data-testid="finding-ticket"
                        onClick={() => void send(`/records/${v.id}/findings/${j}`, { open: 'ticket' })}
                      >
                        {t('orders.openTicket')}
                      </button>{' '}
                      <button
                        type="button"
                        disabled={busy}
                        data-testid="finding-follow-up"
                        onClick={() => void send(`/records/${v.id}/findings/${j}`, { open: 'follow_up' })}
                      >
                        {t('orders.followUp')}
                      </button>
                    </span>
                  )
                )}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {props.canAdd && (
        <form class="form" data-testid="visit-form" onSubmit={submit}>
          <h4>{t('orders.addVisit')}</h4>
          <label>
            {t('orders.inspected')}
            <input name="target" required maxLength={300} value={f.target} onInput={set('target')} />
          </label>
          <label>
            {t('orders.visitAt')}
            <DateTimeInput kind="datetime" name="visit-at" required value={f.at} onInput={set('at')} />
          </label>
          <label>
            {t('orders.stateFound')}
            <textarea name="state-found" required maxLength={2000} value={f.stateFound} onInput={set('stateFound')} />
          </label>
          <label>
            {t('orders.readings')}
            <input name="readings" maxLength={2000} value={f.readings} onInput={set('readings')} />
          </label>
          {findings.map((x, i) => (
            <div class="toolbar" key={i} data-testid="finding-row">
              <input
                class="grow"
                name="finding"
                maxLength={1000}
                placeholder={t('orders.finding')}
                value={x.text}
                onInput={(e) =>
                  setFindings(findings.map((y, j) => (j === i ? { ...y, text: e.currentTarget.value } : y)))
                }
              />
              <select
                name="severity"
                value={x.severity}
                onChange={(e) =>
                  setFindings(findings.map((y, j) => (j === i ? { ...y, severity: e.currentTarget.value } : y)))
                }
              >
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    {sevLabel(s)}
                  </option>
                ))}
              </select>
              <label>
                <input
                  type="checkbox"
                  name="needs-repair"
                  checked={x.needsRepair}
                  onChange={(e) =>
                    setFindings(findings.map((y, j) => (j === i ? { ...y, needsRepair: e.currentTarget.checked } : y)))
                  }
                />{' '}
                {t('orders.needsRepair')}
              </label>
            </div>
          ))}
          <button
            type="button"
            data-testid="finding-add"
            onClick={() => setFindings([...findings, { text: '', severity: 'minor', needsRepair: false }])}
          >
            {t('orders.addFinding')}
          </button>
          <label>
            {t('orders.workDone')}
            <textarea name="work-done" maxLength={4000} value={f.workDone} onInput={set('workDone')} />
          </label>
          <label>
            {t('orders.partsLines')}
            <textarea name="parts" maxLength={4000} value={f.parts} onInput={set('parts')} />
          </label>
          <label>
            {t('orders.internalNote')}
            <input name="internal-note" maxLength={2000} value={f.internalNote} onInput={set('internalNote')} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {t('orders.saveVisit')}
          </button>
        </form>
      )}
      {errBox}
    </section>
  );
}

function Training(props: {
  orderId: number;
  materials: Rec<'material'>[];
  attendees: Rec<'attendee'>[];
  sessions: Rec<'session'>[];
  assessments: Rec<'assessment'>[];
  canPrepare: boolean;
  canHold: boolean;
  onSaved: () => void;
}) {
  const { send, busy, errBox } = useSubmit(props.orderId, props.onSaved);
  const [material, setMaterial] = useState('');
  const [att, setAtt] = useState({ name: '', unit: '', role: '' });
  const [ses, setSes] = useState({ at: localInput(Date.now()), topic: '', trainer: '', hours: '' });
  const [score, setScore] = useState<Record<number, string>>({});
  const assessed = new Map(props.assessments.map((a) => [a.body.attendeeId, a.body]));
  return (
    <section class="card" data-testid="order-training">
      <h3>{t('orders.sessions')}</h3>
      <ul>
        {props.sessions.map((s) => (
          <li key={s.id} data-testid="order-session">
            {dateTime(s.body.at)} · {s.body.topic} · {t('orders.trainer')}: {s.body.trainer}
            {s.body.hours !== null && ` · ${s.body.hours} h`}
          </li>
        ))}
      </ul>
      {props.canHold && (
        <form
          class="toolbar"
          data-testid="session-form"
          onSubmit={(e) => {
            e.preventDefault();
            void send('/records', {
              type: 'session',
              at: new Date(ses.at).getTime(),
              topic: ses.topic,
              trainer: ses.trainer,
              ...(ses.hours ? { hours: Number(ses.hours) } : {}),
            }).then((ok) => ok && setSes({ ...ses, topic: '' }));
          }}
        >
          <DateTimeInput
            kind="datetime"
            name="session-at"
            required
            value={ses.at}
            onInput={(e) => setSes({ ...ses, at: e.currentTarget.value })}
          />
          <input
            name="topic"
            required
            maxLength={300}
            placeholder={t('orders.topic')}
            value={ses.topic}
            onInput={(e) => setSes({ ...ses, topic: e.currentTarget.value })}
          />
          <input
            name="trainer"
            required
            maxLength={100}
            placeholder={t('orders.trainer')}
            value={ses.trainer}
            onInput={(e) => setSes({ ...ses, trainer: e.currentTarget.value })}
          />
          <input
            name="hours"
            type="number"
            min={0.5}
            max={24}
            step={0.5}
            placeholder={t('orders.hours')}
            value={ses.hours}
            onInput={(e) => setSes({ ...ses, hours: e.currentTarget.value })}
          />
          <button type="submit" class="primary" disabled={busy}>
            {t('orders.addSession')}
          </button>
        </form>
      )}
      <h3>{t('orders.materials')}</h3>
      <ul>
        {props.materials.map((m) => (
          <li key={m.id}>
            {m.body.title}
            {m.body.note && <span class="muted"> · {m.body.note}</span>}
          </li>
        ))}
      </ul>
      {props.canPrepare && (
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            void send('/records', { type: 'material', title: material }).then((ok) => ok && setMaterial(''));
          }}
        >
          <input
            class="grow"
            name="material"
            required
            maxLength={300}
            value={material}
            onInput={(e) => setMaterial(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            {t('orders.addMaterial')}
          </button>
        </form>
      )}
      <h3>{t('orders.attendees')}</h3>
      <table class="grid" data-testid="order-attendees">
        <thead>
          <tr>
            <th>{t('orders.attendeeName')}</th>
            <th>{t('orders.attendeeUnit')}</th>
            <th>{t('orders.attendeeRole')}</th>
            <th>{t('orders.score')}</th>
            <th>{t('orders.result')}</th>
          </tr>
        </thead>
        <tbody>
          {props.attendees.map((a) => {
            const s = assessed.get(a.id);
            return (
              <tr key={a.id}>
                <td>{a.body.name}</td>
                <td>{a.body.unit}</td>
                <td>{a.body.role}</td>
                <td>{s?.score ?? ''}</td>
                <td>
                  {s ? (
                    t(s.passed ? 'orders.passed' : 'orders.failed')
                  ) : props.canHold ? (
                    <span class="toolbar">
                      <input
                        name="score"
                        type="number"
                        min={0}
                        max={100}
                        value={score[a.id] ?? ''}
                        onInput={(e) => setScore({ ...score, [a.id]: e.currentTarget.value })}
                      />
                      {([true, false] as const).map((passed) => (
                        <button
                          key={String(passed)}
                          type="button"
                          disabled={busy}
                          onClick={() =>
                            void send('/records', {
                              type: 'assessment',
                              attendeeId: a.id,
                              passed,
                              ...(score[a.id] ? { score: Number(score[a.id]) } : {}),
                            })
                          }
                        >
                          {t(passed ? 'orders.passed' : 'orders.failed')}
                        </button>
                      ))}
                    </span>
                  ) : (
                    t('orders.notAssessed')
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {props.canPrepare && (
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            void send('/records', { type: 'attendee', ...att }).then(
              (ok) => ok && setAtt({ name: '', unit: att.unit, role: '' }),
            );
          }}
        >
          <input
            name="attendee-name"
            required
            maxLength={100}
            placeholder={t('orders.attendeeName')}
            value={att.name}
            onInput={(e) => setAtt({ ...att, name: e.currentTarget.value })}
          />
          <input
            name="attendee-unit"
            required
            maxLength={200}
            placeholder={t('orders.attendeeUnit')}
            value={att.unit}
            onInput={(e) => setAtt({ ...att, unit: e.currentTarget.value })}
          />
          <input
            name="attendee-role"
            required
            maxLength={100}
            placeholder={t('orders.attendeeRole')}
            value={att.role}
            onInput={(e) => setAtt({ ...att, role: e.currentTarget.value })}
          />
          <button type="submit" disabled={busy}>
            {t('orders.addAttendee')}
          </button>
        </form>
      )}
      {errBox}
    </section>
  );
}

function DutyLog(props: { orderId: number; logs: Rec<'log'>[]; canAdd: boolean; onSaved: () => void }) {
  const { send, busy, errBox } = useSubmit(props.orderId, props.onSaved);
  const [at, setAt] = useState(localInput(Date.now()));
  const [text, setText] = useState('');
  return (
    <section class="card" data-testid="order-log">
      <h3>{t('orders.dutyLog')}</h3>
      {props.logs.length === 0 && <p class="muted">{t('orders.noLog')}</p>}
      <ol class="timeline">
        {props.logs.map((l) => (
          <li key={l.id}>
            <span class="muted">{dateTime(l.body.at)}</span> <b>{personName(l.actor)}</b>
            <div class="pre">{l.body.text}</div>
          </li>
        ))}
      </ol>
      {props.canAdd && (
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            void send('/records', { type: 'log', at: new Date(at).getTime(), text }).then((ok) => ok && setText(''));
          }}
        >
          <DateTimeInput
            kind="datetime"
            name="log-at"
            required
            value={at}
            onInput={(e) => setAt(e.currentTarget.value)}
          />
          <textarea
            name="log-text"
            required
            maxLength={4000}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit" class="primary" disabled={busy}>
            {t('orders.addLog')}
          </button>
        </form>
      )}
      {errBox}
    </section>
  );
}
