/** Sign-in, and the forced password change of a first login. */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { LangSwitch } from '../components/lang-switch.tsx';
import { t, useLang } from '../i18n.ts';
import type { Session } from '../types.ts';

export function Login({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  useLang();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (challenge) {
        const body = recovery.trim() ? { challenge, recoveryCode: recovery.trim() } : { challenge, code: code.trim() };
        onSignedIn(await api.post<Session>('/api/auth/login/second-factor', body));
        return;
      }
      const r = await api.post<Session | { secondFactorRequired: true; challenge: string }>('/api/auth/login', {
        username,
        password,
      });
      if ('secondFactorRequired' in r) {
        setPassword('');
        setChallenge(r.challenge);
      } else onSignedIn(r);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  if (challenge)
    return (
      <main class="login">
        <form class="card login-card" onSubmit={submit}>
          <h2>{t('login.title')}</h2>
          <Field
            label={t('login.code')}
            name="code"
            autocomplete="one-time-code"
            value={code}
            onInput={setCode}
            optional
          />
          <Field
            label={t('login.recovery')}
            name="recovery"
            autocomplete="off"
            value={recovery}
            onInput={setRecovery}
            optional
          />
          {error && (
            <div class="error" role="alert">
              {t('login.failed')}: {error}
            </div>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {t('login.codeSubmit')}
          </button>
          <button type="button" class="link" onClick={() => setChallenge(null)}>
            {t('common.back')}
          </button>
        </form>
      </main>
    );
  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit}>
        <div class="login-head">
          <h1>{t('appName')}</h1>
          <LangSwitch />
        </div>
        <h2>{t('login.title')}</h2>
        <Field
          label={t('login.username')}
          name="username"
          autocomplete="username"
          value={username}
          onInput={setUsername}
        />
        <Field
          label={t('login.password')}
          name="password"
          password
          autocomplete="current-password"
          value={password}
          onInput={setPassword}
        />
        {error && (
          <div class="error" role="alert">
            {t('login.failed')}: {error}
          </div>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t('login.submit')}
        </button>
      </form>
    </main>
  );
}

export function ChangePassword({ onChanged }: { onChanged: (s: Session) => void }) {
  useLang();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== repeat) return setError(t('pw.mismatch'));
    try {
      onChanged(await api.post<Session>('/api/auth/password', { currentPassword: current, newPassword: next }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit}>
        <h2>{t('pw.title')}</h2>
        <p class="muted">{t('pw.why')}</p>
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
        {error && (
          <div class="error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" class="primary">
          {t('pw.submit')}
        </button>
      </form>
    </main>
  );
}

/** A labelled, required text box of the sign-in forms. */
export function Field({
  label,
  password,
  optional,
  value,
  onInput,
  ...input
}: {
  label: string;
  password?: boolean;
  optional?: boolean;
  value: string;
  onInput: (value: string) => void;
  name?: string;
  autocomplete: string;
  minLength?: number;
}) {
  const props = {
    ...input,
    required: !optional,
    value,
    onInput: (e: { currentTarget: HTMLInputElement }) => onInput(e.currentTarget.value),
  };
  return (
    <label>
      {label}
      {password ? <input type="password" {...props} /> : <input {...props} />}
    </label>
  );
}

/** The page a password reset link opens (`#/reset?token=…`): a new password, then sign in. */
export function ResetPassword({ token, onDone }: { token: string; onDone: () => void }) {
  useLang();
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== repeat) return setError(t('pw.mismatch'));
    try {
      await api.post('/api/auth/reset', { token, newPassword: next });
      setDone(true);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit}>
        <h2>{t('reset.title')}</h2>
        {done ? (
          <>
            <p role="status">{t('reset.done')}</p>
            <button type="button" class="primary" onClick={onDone}>
              {t('login.submit')}
            </button>
          </>
        ) : (
          <>
            <Field
              label={t('pw.new')}
              password
              autocomplete="new-password"
              minLength={12}
              value={next}
              onInput={setNext}
            />
            <Field
              label={t('pw.repeat')}
              password
              autocomplete="new-password"
              minLength={12}
              value={repeat}
              onInput={setRepeat}
            />
            {error && (
              <div class="error" role="alert">
                {error}
              </div>
            )}
            <button type="submit" class="primary">
              {t('pw.submit')}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
