/**
 * A remote session's guided steps (remote/steps.ts): the engineer's list (the current one
 * highlighted; done, skip, check, add; each result with what the crew saw and the evidence that
 * decided it) and the crew's one big current step with its safety note.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { time } from '../format.ts';
import { loc, personName, t, type MessageKey } from '../i18n.ts';
import type { SessionStep, SessionSteps } from '../session-state.ts';

const stepUrl = (sessionId: number, index: number, what: string) => `/api/sessions/${sessionId}/steps/${index}/${what}`;

/** Runs one step request and hands its answer (the steps now) on; an error shows beside the buttons. */
function useStepAction(onSteps: (s: SessionSteps) => void) {
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (path: string, body: unknown = {}) => {
    setBusy(true);
    try {
      onSteps(await api.post<SessionSteps>(path, body));
      setErr(null);
      return true;
    } catch (x) {
      setErr(errorText(x));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { err, busy, run };
}

function Result({ r }: { r: SessionStep['results'][number] }) {
  return (
    <li class="step-result" data-status={r.status}>
      <span class="badge">{t(`session.result.${r.status}` as MessageKey)}</span> {personName(r.actor)} ·{' '}
      <span class="muted">{time(r.at)}</span>
      {r.observation && <span class="observation"> — “{r.observation}”</span>}
      {r.reason && <span class="muted"> — {r.reason}</span>}
      {r.evidence && (
        <span class="evidence muted">
          {' '}
          · {t('session.evidence')}: {r.evidence.condition}{' '}
          {Object.entries(r.evidence.values)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(', ')}
        </span>
      )}
    </li>
  );
}

export function EngineerSteps(props: {
  sessionId: number;
  steps: SessionSteps | null;
  canAct: boolean;
  onSteps: (s: SessionSteps) => void;
}) {
  const { err, busy, run } = useStepAction(props.onSteps);
  const [adding, setAdding] = useState(false);
  const [en, setEn] = useState('');
  const [zh, setZh] = useState('');
  const [actor, setActor] = useState<'crew' | 'engineer'>('crew');
  const steps = props.steps?.steps ?? [];
  return (
    <section class="card session-steps" data-testid="session-steps">
      <h3>{t('session.steps')}</h3>
      {props.steps && steps.length === 0 && <p class="muted">{t('session.steps.none')}</p>}
      <ol class="steps">
        {steps.map((s) => {
          const current = props.steps?.current === s.index;
          return (
            <li
              key={s.index}
              class={`step ${current ? 'current' : ''}`}
              data-testid={`step-${s.index}`}
              data-status={s.status}
            >
              <div class="step-head">
                <span class="badge">{t(`session.step.${s.status}` as MessageKey)}</span>{' '}
                <span class="muted">{t(`session.actor.${s.actor}` as MessageKey)}</span> {loc(s.instruction)}
              </div>
              {s.safety && <p class="safety">⚠ {loc(s.safety)}</p>}
              {s.expect && <p class="muted">{t('session.expect', { text: s.expect.text, s: s.expect.withinS })}</p>}
              {s.command && (
                <p class="muted">{t('session.stepCommand', { name: t(`cmd.name.${s.command.name}` as MessageKey) })}</p>
              )}
              {s.results.length > 0 && (
                <ul class="results">
                  {s.results.map((r, i) => (
                    <Result key={i} r={r} />
                  ))}
                </ul>
              )}
              {props.canAct && current && (
                <div class="toolbar">
                  <button
                    type="button"
                    disabled={busy}
                    data-testid="step-done"
                    onClick={() => void run(stepUrl(props.sessionId, s.index, 'done'))}
                  >
                    {t('session.done')}
                  </button>
                  {s.expect && (
                    <button
                      type="button"
                      disabled={busy}
                      data-testid="step-check"
                      onClick={() => void run(stepUrl(props.sessionId, s.index, 'check'))}
                    >
                      {t('session.check')}
                    </button>
                  )}
                  <button
                    type="button"
                    disabled={busy}
                    data-testid="step-skip"
                    onClick={() => void run(stepUrl(props.sessionId, s.index, 'skip'))}
                  >
                    {t('session.skip')}
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      {props.canAct &&
        (adding ? (
          <form
            class="inline-form"
            data-testid="step-add-form"
            onSubmit={async (e) => {
              e.preventDefault();
              const ok = await run(`/api/sessions/${props.sessionId}/steps`, { actor, instruction: { en, zh } });
              if (ok) {
                setAdding(false);
                setEn('');
                setZh('');
              }
            }}
          >
            <select value={actor} onChange={(e) => setActor(e.currentTarget.value as 'crew' | 'engineer')}>
              <option value="crew">{t('session.actor.crew')}</option>
              <option value="engineer">{t('session.actor.engineer')}</option>
            </select>
            <input
              required
              maxLength={500}
              placeholder={t('session.add.en')}
              value={en}
              onInput={(e) => setEn(e.currentTarget.value)}
            />
            <input
              required
              maxLength={500}
              placeholder={t('session.add.zh')}
              value={zh}
              onInput={(e) => setZh(e.currentTarget.value)}
            />
            <button type="submit" disabled={busy}>
              {t('session.add.save')}
            </button>
            <button type="button" onClick={() => setAdding(false)}>
              {t('common.cancel')}
            </button>
          </form>
        ) : (
          <button type="button" data-testid="step-add" onClick={() => setAdding(true)}>
            {t('session.add')}
          </button>
        ))}
    </section>
  );
}

/** The crew's current step in big type: Done, or What I see (an observation) and then done. */
export function CrewStep(props: { sessionId: number; steps: SessionSteps | null; onSteps: (s: SessionSteps) => void }) {
  const { err, busy, run } = useStepAction(props.onSteps);
  const [observing, setObserving] = useState(false);
  const [text, setText] = useState('');
  const steps = props.steps;
  if (!steps) return <p class="muted">{t('common.loading')}</p>;
  const s = steps.current === null ? undefined : steps.steps.find((x) => x.index === steps.current);
  if (!s)
    return (
      <section class="card crew-step" data-testid="crew-step">
        <p class="big">{t(steps.steps.length ? 'session.steps.allDone' : 'session.steps.noneCrew')}</p>
      </section>
    );
  const mine = s.actor === 'crew';
  return (
    <section class="card crew-step" data-testid="crew-step" data-index={s.index} data-status={s.status}>
      <p class="muted">
        {t('session.stepOf', { n: s.index + 1, of: steps.steps.length })} ·{' '}
        {t(`session.actor.${s.actor}` as MessageKey)}
      </p>
      <p class="big" data-testid="crew-step-text">
        {loc(s.instruction)}
      </p>
      {s.safety && <p class="safety big-safety">⚠ {loc(s.safety)}</p>}
      {!mine && <p class="muted">{t('session.waitEngineer')}</p>}
      {mine &&
        (observing ? (
          <form
            class="observe-form"
            onSubmit={async (e) => {
              e.preventDefault();
              const ok = await run(stepUrl(props.sessionId, s.index, 'done'), { observation: text.trim() });
              if (ok) {
                setObserving(false);
                setText('');
              }
            }}
          >
            <textarea
              required
              maxLength={2000}
              value={text}
              placeholder={t('session.observe.placeholder')}
              onInput={(e) => setText(e.currentTarget.value)}
              data-testid="observation"
            />
            <button type="submit" class="big-button" disabled={busy} data-testid="observation-send">
              {t('session.observe.send')}
            </button>
            <button type="button" onClick={() => setObserving(false)}>
              {t('common.cancel')}
            </button>
          </form>
        ) : (
          <div class="big-buttons">
            <button
              type="button"
              class="big-button primary"
              disabled={busy}
              data-testid="crew-done"
              onClick={() => void run(stepUrl(props.sessionId, s.index, 'done'))}
            >
              {t('session.done')}
            </button>
            <button type="button" class="big-button" data-testid="crew-observe" onClick={() => setObserving(true)}>
              {t('session.observe')}
            </button>
          </div>
        ))}
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </section>
  );
}
