/** Alarms with acknowledge and comment (staff); customers see them read-only. */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { loc, personName, t, type MessageKey } from '../i18n.ts';
import type { Alarm, AlarmNote } from '../types.ts';
import { InternalBadge, SeverityBadge, VisibilityChoice } from './badges.tsx';

export function AlarmTable({
  alarms,
  canAct,
  onChanged,
  showVehicle = true,
}: {
  alarms: Alarm[];
  canAct: boolean;
  onChanged: () => void;
  showVehicle?: boolean;
}) {
  const [open, setOpen] = useState<number | null>(null);
  if (!alarms.length) return <p class="muted">{t('common.empty')}</p>;
  return (
    <table class="grid" data-testid="alarm-table">
      <thead>
        <tr>
          <th>{t('alarms.col.severity')}</th>
          <th>{t('alarms.col.title')}</th>
          {showVehicle && <th>{t('common.vehicle')}</th>}
          <th>{t('alarms.col.raised')}</th>
          <th>{t('alarms.col.state')}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {alarms.map((a) => (
          <>
            <tr key={a.id} class={`row-${a.severity} state-${a.state}`} data-alarm={a.id}>
              <td>
                <SeverityBadge severity={a.severity} />
              </td>
              <td>
                {loc(a.title)} <span class="muted code">{a.code}</span>
                {a.raiseCount > 1 && <span class="muted"> {t('alarms.count', { n: a.raiseCount })}</span>}
              </td>
              {showVehicle && (
                <td>
                  <a href={`#/vehicles/${encodeURIComponent(a.vehicleId)}`}>{a.vehicleId}</a>
                </td>
              )}
              <td>{dateTime(a.raisedAt)}</td>
              <td>
                {t(`alarmState.${a.state}` as MessageKey)}
                {a.acknowledgedBy && <div class="sub">{t('alarms.acknowledged', { who: a.acknowledgedBy })}</div>}
              </td>
              <td class="actions">
                {canAct && a.state === 'active' && <AckButton alarm={a} onDone={onChanged} />}
                <button type="button" class="link" onClick={() => setOpen(open === a.id ? null : a.id)}>
                  {t('alarms.notes')}
                </button>
              </td>
            </tr>
            {open === a.id && (
              <tr key={`${a.id}-notes`} class="notes-row">
                <td colSpan={showVehicle ? 6 : 5}>
                  <AlarmNotes alarm={a} canAct={canAct} onChanged={onChanged} />
                </td>
              </tr>
            )}
          </>
        ))}
      </tbody>
    </table>
  );
}

function AckButton({ alarm, onDone }: { alarm: Alarm; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        disabled={busy}
        onClick={async (e) => {
          e.stopPropagation();
          setBusy(true);
          try {
            await api.post(`/api/alarms/${alarm.id}/acknowledge`, {});
            onDone();
          } catch (x) {
            setErr(errorText(x));
          } finally {
            setBusy(false);
          }
        }}
      >
        {t('alarms.acknowledge')}
      </button>
      {err && <span class="error-inline">{err}</span>}
    </>
  );
}

function AlarmNotes({ alarm, canAct, onChanged }: { alarm: Alarm; canAct: boolean; onChanged: () => void }) {
  const [notes, setNotes] = useState<AlarmNote[] | null>(null);
  const [text, setText] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'customer'>('internal');
  const [err, setErr] = useState<string | null>(null);
  const load = () =>
    api.get<{ notes: AlarmNote[] }>(`/api/alarms/${alarm.id}`).then(
      (r) => setNotes(r.notes),
      (x) => setErr(errorText(x)),
    );
  if (notes === null && !err) void load();
  return (
    <div class="notes">
      <ul class="timeline">
        {(notes ?? []).map((n, i) => (
          <li
            key={i}
            class={n.visibility === 'internal' && n.text ? 'internal-note' : undefined}
            data-visibility={n.visibility}
          >
            <span class="muted">{dateTime(n.at)}</span> <b>{personName(n.actor)}</b> {n.kind}
            {n.text && (
              <>
                {' '}
                <InternalBadge visibility={n.visibility} />
              </>
            )}
            {n.text ? `: ${n.text}` : ''}
          </li>
        ))}
      </ul>
      {canAct && (
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await api.post(`/api/alarms/${alarm.id}/comments`, { text, visibility });
              setText('');
              setVisibility('internal');
              await load();
              onChanged();
            } catch (x) {
              setErr(errorText(x));
            }
          }}
        >
          <input
            placeholder={t('common.comment')}
            value={text}
            required
            maxLength={2000}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <VisibilityChoice name="alarm-comment-visibility" value={visibility} onChange={setVisibility} />
          <button type="submit">{t('common.add')}</button>
        </form>
      )}
      {err && <div class="error">{err}</div>}
    </div>
  );
}
