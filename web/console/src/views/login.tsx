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
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.post<Session>('/api/auth/login', { username, password }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card login-card" onSubmit={submit}>
        <div class="login-head">
          <h1>{t('appName')}</h1>
          <LangSwitch />
        </div>
        <h2>{t('login.title')}</h2>
        <label>
          {t('login.username')}
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('login.password')}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
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
        <label>
          {t('pw.current')}
          <input
            type="password"
            autocomplete="current-password"
            required
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('pw.new')}
          <input
            type="password"
            autocomplete="new-password"
            minLength={12}
            required
            value={next}
            onInput={(e) => setNext(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('pw.repeat')}
          <input
            type="password"
            autocomplete="new-password"
            minLength={12}
            required
            value={repeat}
            onInput={(e) => setRepeat(e.currentTarget.value)}
          />
        </label>
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
