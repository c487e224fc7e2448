/**
 * Re-authentication for actions that need a recent proof of identity (403 REAUTH_REQUIRED): the
 * action is kept, a small form asks for the password or a 6-digit code (POST /api/auth/reauth),
 * and the action is run again once.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, errorText } from './api.ts';
import { t } from './i18n.ts';

export function useReauth() {
  const [pending, setPending] = useState<(() => Promise<void>) | null>(null);
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'REAUTH_REQUIRED') setPending(() => fn);
    }
  };
  const confirm = async (e: Event) => {
    e.preventDefault();
    const value = secret.trim();
    try {
      await api.post('/api/auth/reauth', /^\d{6}$/.test(value) ? { code: value } : { password: secret });
      const retry = pending;
      setPending(null);
      setSecret('');
      setError(null);
      if (retry) await run(retry);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const view = pending ? (
    <form class="card reauth" onSubmit={confirm}>
      <h3>{t('reauth.title')}</h3>
      <label>
        {t('reauth.hint')}
        <input
          type="password"
          autocomplete="current-password"
          required
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
      </label>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <button type="submit" class="primary">
        {t('reauth.submit')}
      </button>
      <button type="button" class="link" onClick={() => setPending(null)}>
        {t('common.cancel')}
      </button>
    </form>
  ) : null;
  return { run, view };
}
