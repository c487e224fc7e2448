/**
 * A remote session's guest invitations, for staff: "Invite a crew member" makes a one-time link
 * (POST /api/sessions/:id/invites), shown only this once with a copy button and its expiry; the
 * list of invitations (never their tokens) with Revoke for the open or used ones, brought up to date
 * when someone joins or leaves the session.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';
import { onLive } from '../live.ts';

interface Invite {
  id: string;
  createdAt: number;
  expiresAt: number;
  status: 'open' | 'used' | 'expired' | 'revoked';
}

/** The link as the guest opens it: the platform answers it relative to its own address. */
const absolute = (url: string) => (url.startsWith('/') ? `${location.origin}${url}` : url);

export function SessionInvites({ sessionId }: { sessionId: number }) {
  const list = useLoad(() => api.get<{ invites: Invite[] }>(`/api/sessions/${sessionId}/invites`), [sessionId]);
  // a guest coming in (or going) shows on the timeline: its invitation's status has changed
  useEffect(
    () =>
      onLive('remoteTimeline', (m) => {
        if (m.sessionId === sessionId && (m.entry.kind === 'joined' || m.entry.kind === 'left')) list.reload();
      }),
    [sessionId],
  );
  const [made, setMade] = useState<{ url: string; expiresAt: number } | null>(null);
  const [copied, setCopied] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => {
    try {
      await fn();
      setErr(null);
    } catch (x) {
      setErr(errorText(x));
    }
    list.reload();
  };
  const create = () =>
    run(async () => {
      const res = await api.post<{ url: string; expiresAt: number }>(`/api/sessions/${sessionId}/invites`, {});
      setMade({ url: absolute(res.url), expiresAt: res.expiresAt });
      setCopied(false);
    });
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      // no clipboard (plain HTTP, refused): the link is on screen to select by hand
    }
  };
  const invites = list.data?.invites ?? [];
  return (
    <section class="card" data-testid="session-invites">
      <h3>{t('invite.title')}</h3>
      <button type="button" data-testid="invite-create" onClick={() => void create()}>
        {t('invite.create')}
      </button>
      {made && (
        <div class="invite-made" data-testid="invite-made">
          <p class="muted">{t('invite.shown', { at: dateTime(made.expiresAt) })}</p>
          <p class="invite-link" data-testid="invite-link">
            {made.url}
          </p>
          <button type="button" data-testid="invite-copy" onClick={() => void copy(made.url)}>
            {copied ? t('invite.copied') : t('invite.copy')}
          </button>
        </div>
      )}
      {invites.length === 0 ? (
        <p class="muted">{t('invite.none')}</p>
      ) : (
        <ul class="invites" data-testid="invite-list">
          {invites.map((i) => (
            <li key={i.id} data-invite={i.id} data-status={i.status}>
              {t(`invite.status.${i.status}` as MessageKey)}
              <span class="muted"> · {t('invite.expires', { at: dateTime(i.expiresAt) })}</span>{' '}
              {(i.status === 'open' || i.status === 'used') && (
                <button
                  type="button"
                  class="link"
                  data-testid="invite-revoke"
                  onClick={() => void run(() => api.del(`/api/sessions/${sessionId}/invites/${i.id}`))}
                >
                  {t('invite.revoke')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </section>
  );
}
