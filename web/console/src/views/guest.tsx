/**
 * `/guest#token=…`, the page an invited crew member without an account opens: the link's token is
 * read from the fragment (never sent to a server in a URL or a Referer) and cleared from the address
 * at once, then `POST /api/guest/login` gives the guest cookie and the CSRF token, and the session's
 * crew layout follows (chat, key values, photos). A reload without the token goes on with the
 * cookie (`GET /api/guest/session`). A link that no longer works, or too many attempts, say so.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorText, onSessionEnded, setCsrfToken } from '../api.ts';
import { LangSwitch } from '../components/lang-switch.tsx';
import { t, useLang } from '../i18n.ts';
import { connectLive, disconnectLive, onLive } from '../live.ts';
import { setGuest } from '../session.ts';
import { SessionView } from './session.tsx';

interface GuestAnswer {
  guestId: string;
  sessionId: number;
  csrfToken: string;
  expiresAt: number;
}

type Phase = { kind: 'loading' } | { kind: 'in'; sessionId: number } | { kind: 'refused'; message: string };

/** The token of the link, taken out of the address bar (and so out of the history) as it is read. */
function takeToken(): string | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return token;
}

function refusal(err: unknown): string {
  if (err instanceof ApiError && err.code === 'GUEST_LINK_INVALID') return t('guest.invalid');
  if (err instanceof ApiError && err.status === 429) return t('guest.limited');
  return errorText(err);
}

export function GuestApp() {
  useLang();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  useEffect(() => {
    const enter = (g: GuestAnswer) => {
      setCsrfToken(g.csrfToken);
      setGuest({ guestId: g.guestId, sessionId: g.sessionId });
      connectLive();
      setPhase({ kind: 'in', sessionId: g.sessionId });
    };
    const end = (message: string) => {
      disconnectLive();
      setCsrfToken(null);
      setGuest(null);
      setPhase({ kind: 'refused', message });
    };
    const token = takeToken();
    if (token) api.post<GuestAnswer>('/api/guest/login', { token }).then(enter, (err: unknown) => end(refusal(err)));
    else
      api
        .get<GuestAnswer>('/api/guest/session')
        .then(enter, (err: unknown) =>
          end(err instanceof ApiError && err.status === 401 ? t('guest.noLink') : errorText(err)),
        );
    const off1 = onSessionEnded(() => end(t('guest.ended')));
    const off2 = onLive('ended', () => end(t('guest.ended')));
    return () => {
      off1();
      off2();
    };
  }, []);
  return (
    <>
      <header class="topbar">
        <span class="brand">{t('guest.title')}</span>
        <LangSwitch />
      </header>
      <main class="content" data-testid="guest-page">
        {phase.kind === 'loading' && <p class="muted center">{t('guest.signingIn')}</p>}
        {phase.kind === 'refused' && (
          <p class="error" role="alert" data-testid="guest-refused">
            {phase.message}
          </p>
        )}
        {phase.kind === 'in' && <SessionView id={String(phase.sessionId)} />}
      </main>
    </>
  );
}
