/**
 * The own account's security: two-factor authentication (enrol with a QR code, recovery codes, turn
 * off), the own sessions (end one), changing the password (the rule's reason shown in words).
 * Actions that need a recent proof of identity ask for the password or a code and are retried.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DataTable, type Column } from '../components/data-table.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, useLang } from '../i18n.ts';
import { useReauth } from '../reauth.tsx';
import type { Session } from '../types.ts';
import { Field } from './login.tsx';

interface TwoFactorStatus {
  enabled: boolean;
  pending: boolean;
  required: boolean;
  recoveryCodesLeft: number;
}
interface SessionInfo {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

export function Security({ session, onEnrolled }: { session: Session; onEnrolled?: () => void }) {
  useLang();
  return (
    <div class="view security">
      <h1>{t('sec.title')}</h1>
      {session.twoFactorRequired && (
        <div class="notice" role="status">
          {t('sec.required')}
        </div>
      )}
      <TwoFactor {...(onEnrolled ? { onEnrolled } : {})} />
      {!session.twoFactorRequired && <Sessions />}
      {!session.twoFactorRequired && <PasswordChange />}
    </div>
  );
}

function TwoFactor({ onEnrolled }: { onEnrolled?: () => void }) {
  const status = useLoad(() => api.get<TwoFactorStatus>('/api/auth/two-factor'), []);
  const reauth = useReauth();
  const [enrolment, setEnrolment] = useState<{ otpauthUri: string; qrDataUrl: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = (fn: () => Promise<void>) =>
    reauth.run(async () => {
      setError(null);
      try {
        await fn();
      } catch (err) {
        setError(errorText(err));
        throw err;
      }
    });
  const s = status.data;
  return (
    <section>
      <h2>{t('sec.2fa')}</h2>
      <ErrorBox error={status.error} />
      {reauth.view}
      {s && <p>{s.enabled ? t('sec.2fa.on', { n: s.recoveryCodesLeft }) : t('sec.2fa.off')}</p>}
      {codes && (
        <div class="notice secret" role="status">
          <p>{t('sec.2fa.codes')}</p>
          <pre data-testid="recovery-codes">{codes.join('\n')}</pre>
          {onEnrolled && (
            <button type="button" class="primary" onClick={onEnrolled}>
              {t('sec.2fa.continue')}
            </button>
          )}
        </div>
      )}
      {s && !s.enabled && !enrolment && (
        <button
          type="button"
          class="primary"
          onClick={() => run(async () => setEnrolment(await api.post('/api/auth/two-factor/enrol')))}
        >
          {t('sec.2fa.enrol')}
        </button>
      )}
      {enrolment && (
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const r = await api.post<{ recoveryCodes: string[] }>('/api/auth/two-factor/confirm', {
                code: code.trim(),
              });
              setCodes(r.recoveryCodes);
              setEnrolment(null);
              status.reload();
            });
          }}
        >
          <p>{t('sec.2fa.scan')}</p>
          <img src={enrolment.qrDataUrl} alt={enrolment.otpauthUri} width={200} height={200} />
          <p class="muted small">
            <code>{enrolment.otpauthUri}</code>
          </p>
          <Field label={t('login.code')} autocomplete="one-time-code" value={code} onInput={setCode} />
          <button type="submit" class="primary">
            {t('sec.2fa.confirm')}
          </button>
        </form>
      )}
      {s?.enabled && (
        <div class="actions">
          <button
            type="button"
            onClick={() =>
              run(async () =>
                setCodes(
                  (await api.post<{ recoveryCodes: string[] }>('/api/auth/two-factor/recovery-codes')).recoveryCodes,
                ),
              )
            }
          >
            {t('sec.2fa.newCodes')}
          </button>
          <button
            type="button"
            onClick={() => run(async () => (await api.del('/api/auth/two-factor'), status.reload()))}
          >
            {t('sec.2fa.disable')}
          </button>
        </div>
      )}
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
    </section>
  );
}

function Sessions() {
  const list = useLoad(() => api.get<{ sessions: SessionInfo[] }>('/api/auth/sessions'), []);
  const [error, setError] = useState<string | null>(null);
  const columns: Column<SessionInfo>[] = [
    { label: t('sec.session.created'), cell: (x) => dateTime(x.createdAt) },
    { label: t('sec.session.lastSeen'), cell: (x) => dateTime(x.lastSeenAt) },
    { label: t('sec.session.address'), cell: (x) => x.ip ?? '—' },
    { label: t('sec.session.browser'), cell: (x) => x.userAgent ?? '—' },
    {
      label: '',
      class: 'actions',
      cell: (x) =>
        x.current ? (
          <span class="muted">{t('sec.session.current')}</span>
        ) : (
          <button
            type="button"
            onClick={() =>
              void api.del(`/api/auth/sessions/${x.id}`).then(list.reload, (err: unknown) => setError(errorText(err)))
            }
          >
            {t('sec.session.revoke')}
          </button>
        ),
    },
  ];
  return (
    <section>
      <h2>{t('sec.sessions')}</h2>
      <ErrorBox error={list.error} />
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <DataTable rows={list.data?.sessions ?? []} rowKey={(x) => x.id} columns={columns} />
    </section>
  );
}

function PasswordChange() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== repeat) return setMsg({ ok: false, text: t('pw.mismatch') });
    try {
      await api.post('/api/auth/password', { currentPassword: current, newPassword: next });
      setMsg({ ok: true, text: t('sec.password.done') });
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  return (
    <section>
      <h2>{t('sec.password')}</h2>
      <form class="card" onSubmit={submit}>
        <Field label={t('pw.current')} password autocomplete="current-password" value={current} onInput={setCurrent} />
        <Field label={t('pw.new')} password autocomplete="new-password" minLength={12} value={next} onInput={setNext} />
        <Field
          label={t('pw.repeat')}
          password
          autocomplete="new-password"
          minLength={12}
          value={repeat}
          onInput={setRepeat}
        />
        {msg && (
          <div class={msg.ok ? 'notice' : 'error'} role={msg.ok ? 'status' : 'alert'}>
            {msg.text}
          </div>
        )}
        <button type="submit" class="primary">
          {t('pw.submit')}
        </button>
      </form>
    </section>
  );
}
