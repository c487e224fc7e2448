/**
 * The service modes' own steps on a ticket (服务方式: 现场修理, 返厂修理, 应急更换): each mode's steps
 * in order, done or still to do, with when, who, the details and the note; staff record the next
 * step (its time with the console's date field when it was not "now"); the customer unit confirms
 * the joint assessment and the handover and records its receipt of returned equipment. Remote
 * technical support's records are the remote sessions. A ticket moved to another mode keeps the
 * steps of every mode it was in. Once the repair at the factory is recorded, the return-to-factory
 * mode links its work-contact letter (《工作联系函》, HTML and PDF).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { getLang, loc, personName, t, useLang, type MessageKey } from '../i18n.ts';
import { onLive } from '../live.ts';
import { getMeta, isStaff, me } from '../session.ts';
import type { RemoteSession, Ticket } from '../types.ts';
import { VisibilityChoice } from './badges.tsx';
import { DateTimeInput } from './date-input.tsx';

type Details = Record<string, string | number>;
interface ModeStep {
  id: number;
  mode: string;
  step: string;
  at: number;
  actor: string;
  side: 'staff' | 'customer';
  note: string | null;
  details: Details;
  confirmedAt: number | null;
  confirmedBy: string | null;
}
interface StepDef {
  step: string;
  side: 'staff' | 'customer';
  optional: boolean;
  confirm: boolean;
  fields: string[];
  required: string[];
}
interface ModeDef {
  mode: string;
  steps: StepDef[];
}

const OPEN = new Set(['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired']);
const TIME_FIELDS = new Set(['plannedAt', 'eta']);
const CHOICES: Record<string, string[]> = {
  method: ['in_person', 'shipped', 'collected'],
  unitKind: ['whole_unit', 'module'],
};

function detailText(d: Details): string {
  return Object.entries(d)
    .map(([k, v]) => {
      const value = TIME_FIELDS.has(k)
        ? dateTime(Number(v))
        : CHOICES[k]
          ? t(`modeStep.value.${v}` as MessageKey)
          : String(v);
      return `${t(`modeStep.field.${k}` as MessageKey)}: ${value}`;
    })
    .join(' · ');
}

export function ModeSteps({
  ticket,
  sessions,
  onDone,
}: {
  ticket: Ticket;
  sessions: RemoteSession[];
  onDone: () => void;
}) {
  useLang();
  const data = useLoad(
    () => api.get<{ steps: ModeStep[]; modes: ModeDef[] }>(`/api/tickets/${ticket.id}/mode-steps`),
    [ticket.id],
  );
  useEffect(() => onLive('ticket', (m) => m.ticket.id === ticket.id && data.reload()), [ticket.id]);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const d = data.data;
  if (!d) return null;
  const meta = getMeta();
  const role = me().role;
  const open = OPEN.has(ticket.status);
  const current = d.modes.find((m) => m.mode === ticket.serviceMode);
  const shown = d.modes.filter((m) => m === current || d.steps.some((s) => s.mode === m.mode));
  const remote = ticket.serviceMode === 'remote_support' || sessions.length > 0;
  if (shown.length === 0 && !remote) return null;

  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      data.reload();
      onDone();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" data-testid="mode-steps">
      <h3>{t('modeSteps.title')}</h3>
      {remote && (
        <p class="muted" data-testid="mode-steps-remote">
          {t('modeSteps.remote', { n: sessions.length })}
        </p>
      )}
      {shown.map((m) => {
        const done = d.steps.filter((s) => s.mode === m.mode);
        return (
          <div key={m.mode} data-testid={`mode-steps-${m.mode}`} data-current={m === current}>
            <h4>{meta.serviceModes[m.mode] ? loc(meta.serviceModes[m.mode]) : m.mode}</h4>
            <ol class="timeline">
              {m.steps.map((def) => {
                const s = done.find((x) => x.step === def.step);
                return (
                  <li key={def.step} data-testid={`mode-step-${def.step}`} data-done={s ? 'true' : 'false'}>
                    <b>{t(`modeStep.${def.step}` as MessageKey)}</b>
                    {def.optional && <span class="muted"> ({t('modeSteps.optional')})</span>}
                    {s && (
                      <>
                        {' '}
                        <span class="muted">
                          {t('modeSteps.byAt', { at: dateTime(s.at), who: personName(s.actor) })}
                        </span>
                        {Object.keys(s.details).length > 0 && <div>{detailText(s.details)}</div>}
                        {s.note && <div class="pre">{s.note}</div>}
                        {def.confirm &&
                          (s.confirmedAt !== null ? (
                            <div class="ok" data-testid={`mode-step-confirmed-${def.step}`}>
                              {t('modeSteps.confirmedBy', {
                                who: personName(s.confirmedBy),
                                at: dateTime(s.confirmedAt),
                              })}
                            </div>
                          ) : role === 'customer' && open ? (
                            <div>
                              <button
                                type="button"
                                class="primary"
                                disabled={busy}
                                data-testid={`mode-step-confirm-${def.step}`}
                                onClick={() =>
                                  run(() => api.post(`/api/tickets/${ticket.id}/mode-steps/${s.id}/confirm`, {}))
                                }
                              >
                                {t('modeSteps.confirm')}
                              </button>
                            </div>
                          ) : (
                            <div class="muted">{t('modeSteps.awaitingConfirm')}</div>
                          ))}
                      </>
                    )}
                  </li>
                );
              })}
            </ol>
            {m.mode === 'return_to_factory' && done.some((s) => s.step === 'repaired_at_factory') && (
              <p data-testid="work-contact-letter">
                {t('modeSteps.letter')}:{' '}
                <a
                  href={`/api/tickets/${ticket.id}/work-contact-letter.html?lang=${getLang()}`}
                  data-testid="work-contact-letter-html"
                  target="_blank"
                  rel="noopener noreferrer"
                >
                  {t('modeSteps.letterHtml')}
                </a>{' '}
                ·{' '}
                <a
                  href={`/api/tickets/${ticket.id}/work-contact-letter.pdf?lang=${getLang()}`}
                  data-testid="work-contact-letter-pdf"
                  download
                >
                  {t('modeSteps.letterPdf')}
                </a>
              </p>
            )}
            {m === current && open && (
              <StepForm ticket={ticket} mode={m} done={done} busy={busy} run={run} key={done.length} />
            )}
          </div>
        );
      })}
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </section>
  );
}

/** The next steps one may record in the ticket's current mode: the first still to do, and those after an optional one. */
function StepForm({
  ticket,
  mode,
  done,
  busy,
  run,
}: {
  ticket: Ticket;
  mode: ModeDef;
  done: ModeStep[];
  busy: boolean;
  run: (fn: () => Promise<unknown>) => Promise<void>;
}) {
  const side = isStaff(me().role) ? 'staff' : 'customer';
  const last = Math.max(-1, ...done.map((s) => mode.steps.findIndex((d) => d.step === s.step)));
  const ahead = mode.steps.slice(last + 1);
  const firstRequired = ahead.findIndex((d) => !d.optional);
  const pending = (firstRequired < 0 ? ahead : ahead.slice(0, firstRequired + 1)).filter((d) => d.side === side);
  const [step, setStep] = useState(pending[0]?.step ?? '');
  const [at, setAt] = useState('');
  const [note, setNote] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'customer'>('internal');
  const [fields, setFields] = useState<Record<string, string>>({});
  if (pending.length === 0) return ahead.length === 0 ? <p class="muted">{t('modeSteps.allDone')}</p> : null;
  const def = pending.find((d) => d.step === step) ?? pending[0]!;
  const submit = () => {
    const details: Details = {};
    for (const f of def.fields) {
      const v = (fields[f] ?? '').trim();
      if (!v) continue;
      details[f] = TIME_FIELDS.has(f) ? new Date(v).getTime() : f === 'count' ? Number(v) : v;
    }
    return run(() =>
      api.post(`/api/tickets/${ticket.id}/mode-steps`, {
        mode: mode.mode,
        step: def.step,
        ...(at ? { at: new Date(at).getTime() } : {}),
        ...(note.trim() ? { note: note.trim(), ...(side === 'staff' ? { visibility } : {}) } : {}),
        ...(Object.keys(details).length ? { details } : {}),
      }),
    );
  };
  const setField = (f: string, v: string) => setFields({ ...fields, [f]: v });
  return (
    <form
      class="resolution-form"
      data-testid="mode-step-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div class="toolbar">
        <label>
          {t('modeSteps.step')}{' '}
          <select data-testid="mode-step-select" value={def.step} onChange={(e) => setStep(e.currentTarget.value)}>
            {pending.map((d) => (
              <option key={d.step} value={d.step}>
                {t(`modeStep.${d.step}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('modeSteps.at')}{' '}
          <DateTimeInput
            kind="datetime"
            name="mode-step-at"
            aria-label={t('modeSteps.at')}
            value={at}
            onInput={(e) => setAt(e.currentTarget.value)}
          />
        </label>
      </div>
      <div class="toolbar">
        {def.fields.map((f) => (
          <label key={f}>
            {t(`modeStep.field.${f}` as MessageKey)}
            {def.required.includes(f) ? ' *' : ''}{' '}
            {TIME_FIELDS.has(f) ? (
              <DateTimeInput
                kind="datetime"
                name={`mode-step-field-${f}`}
                required={def.required.includes(f)}
                value={fields[f] ?? ''}
                onInput={(e) => setField(f, e.currentTarget.value)}
              />
            ) : CHOICES[f] ? (
              <select
                data-testid={`mode-step-field-${f}`}
                required={def.required.includes(f)}
                value={fields[f] ?? ''}
                onChange={(e) => setField(f, e.currentTarget.value)}
              >
                <option value="">—</option>
                {CHOICES[f]!.map((v) => (
                  <option key={v} value={v}>
                    {t(`modeStep.value.${v}` as MessageKey)}
                  </option>
                ))}
              </select>
            ) : (
              <input
                data-testid={`mode-step-field-${f}`}
                inputMode={f === 'count' ? 'numeric' : 'text'}
                pattern={f === 'count' ? '[0-9]+' : undefined}
                required={def.required.includes(f)}
                maxLength={f === 'result' ? 2000 : 200}
                value={fields[f] ?? ''}
                onInput={(e) => setField(f, e.currentTarget.value)}
              />
            )}
          </label>
        ))}
      </div>
      <div class="toolbar">
        <input
          class="grow"
          data-testid="mode-step-note"
          placeholder={t('modeSteps.note')}
          aria-label={t('modeSteps.note')}
          maxLength={2000}
          value={note}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
        {side === 'staff' && (
          <VisibilityChoice name="mode-step-visibility" value={visibility} onChange={setVisibility} />
        )}
        <button type="submit" class="primary" disabled={busy} data-testid="mode-step-submit">
          {t('modeSteps.record')}
        </button>
      </div>
    </form>
  );
}
