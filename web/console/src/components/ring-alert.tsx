/**
 * The incoming-ring alert for staff: a banner with the request and a link to its ticket, a short
 * tone (Web Audio, no sound file) and a browser notification when the user allowed them. Stronger
 * when this account is the one rung at this step of the ladder.
 */
import { useEffect, useState } from 'preact/hooks';
import { browserNotify, tone } from '../alert.ts';
import { api, errorText } from '../api.ts';
import { navigate } from '../hooks.ts';
import { t } from '../i18n.ts';
import { onLive, type LiveRinging } from '../live.ts';
import { me } from '../session.ts';

function notify(m: LiveRinging): void {
  browserNotify(t('remote.ring.title'), m.description, `session-${m.sessionId}`);
}

export function RingAlert() {
  const [rings, setRings] = useState<LiveRinging[]>([]);
  const [err, setErr] = useState<string | null>(null);
  /** Answering makes this account the lead; the session view opens (another engineer may have been faster). */
  const answer = async (r: LiveRinging) => {
    try {
      await api.post(`/api/sessions/${r.sessionId}/answer`);
      setErr(null);
    } catch (x) {
      setErr(errorText(x));
    }
    setRings((rs) => rs.filter((x) => x.sessionId !== r.sessionId));
    navigate(`/sessions/${r.sessionId}`);
  };
  useEffect(
    () =>
      onLive('ringing', (m) => {
        const mine = m.accounts.includes(me().id);
        setRings((rs) => [m, ...rs.filter((r) => r.sessionId !== m.sessionId)].slice(0, 5));
        if (mine) {
          tone();
          notify(m);
        }
      }),
    [],
  );
  if (rings.length === 0)
    return err ? (
      <p class="error" role="alert" data-testid="ring-error">
        {err}
      </p>
    ) : null;
  return (
    <div class="ring-alert" role="alert" data-testid="ring-alert">
      {rings.map((r) => (
        <p key={r.sessionId} class={r.accounts.includes(me().id) ? 'mine' : ''}>
          ☎ {t('remote.ring.text', { vehicle: r.vehicleId })} — {r.description}{' '}
          <button type="button" class="primary" data-testid="ring-answer" onClick={() => void answer(r)}>
            {t('session.answer')}
          </button>{' '}
          <a href={`#/tickets/${r.ticketId}`}>{t('remote.toTicket')}</a>{' '}
          <button type="button" class="link" onClick={() => setRings((rs) => rs.filter((x) => x !== r))}>
            ✕
          </button>
        </p>
      ))}
    </div>
  );
}
