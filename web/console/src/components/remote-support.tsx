/**
 * Remote support (远程支援) in the console: a crew's "Request remote support" on its vehicle, and a
 * ticket's sessions with their printable records (staff can start one from the ticket), each
 * linking to its session view (views/session.tsx).
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { navigate } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';
import type { RemoteSession } from '../types.ts';

export function RequestSupport({ vehicleId }: { vehicleId: string }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [sent, setSent] = useState<RemoteSession | null>(null);
  if (sent)
    return (
      <p class="card" data-testid="support-requested">
        {t('remote.requested')} <a href={`#/sessions/${sent.id}`}>{t('session.open')}</a> ·{' '}
        <a href={`#/tickets/${sent.ticketId}`}>{t('remote.toTicket')}</a>
      </p>
    );
  if (!open)
    return (
      <button type="button" data-testid="request-support" onClick={() => setOpen(true)}>
        {t('remote.request')}
      </button>
    );
  return (
    <form
      class="card inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          const res = await api.post<{ session: RemoteSession }>('/api/sessions', { vehicleId, description: text });
          setSent(res.session);
          setErr(null);
          // the crew follows the session on its own page (phone layout)
          navigate(`/sessions/${res.session.id}`);
        } catch (x) {
          setErr(errorText(x));
        }
      }}
    >
      <textarea
        class="grow"
        required
        maxLength={2000}
        placeholder={t('remote.describe')}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <button type="submit">{t('remote.send')}</button>
      {err && <span class="error-inline">{err}</span>}
    </form>
  );
}

export function TicketSessions(props: {
  ticketId: number;
  sessions: RemoteSession[];
  canStart: boolean;
  onDone: () => void;
}) {
  const [err, setErr] = useState<string | null>(null);
  const open = props.sessions.some((s) => s.status !== 'ended');
  return (
    <section class="card" data-testid="ticket-sessions">
      <h3>{t('remote.sessions')}</h3>
      {props.sessions.length === 0 && <p class="muted">{t('remote.none')}</p>}
      <ul>
        {props.sessions.map((s) => (
          <li key={s.id}>
            #{s.id} · {t(`remote.status.${s.status}` as MessageKey)}
            {s.outcome && ` · ${t(`remote.outcome.${s.outcome}` as MessageKey)}`} ·{' '}
            <span class="muted">{dateTime(s.requestedAt)}</span> ·{' '}
            <a href={`#/sessions/${s.id}`} data-testid={`session-open-${s.id}`}>
              {t('session.open')}
            </a>{' '}
            ·{' '}
            <a
              href={`/api/sessions/${s.id}/record.html`}
              data-testid={`session-record-${s.id}`}
              target="_blank"
              rel="noopener noreferrer"
            >
              {t('remote.record')}
            </a>
          </li>
        ))}
      </ul>
      {props.canStart && !open && (
        <button
          type="button"
          onClick={async () => {
            try {
              await api.post('/api/sessions', { ticketId: props.ticketId });
              setErr(null);
              props.onDone();
            } catch (x) {
              setErr(errorText(x));
            }
          }}
        >
          {t('remote.start')}
        </button>
      )}
      {err && <span class="error-inline">{err}</span>}
    </section>
  );
}
