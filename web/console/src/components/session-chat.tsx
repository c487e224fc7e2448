/**
 * A remote session's chat: the messages in timeline order, each with its sender's name and part
 * (lead, observer, crew), the photos sent (thumbnails with their captions), a box to write one
 * (POST /api/sessions/:id/chat) and the "Attach photo" control.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { time } from '../format.ts';
import { personName, t, type MessageKey } from '../i18n.ts';
import type { SessionTimelineEntry } from '../session-state.ts';
import type { RemoteSession } from '../types.ts';
import { AttachPhoto, PhotoThumb } from './session-photo.tsx';

export function SessionChat(props: {
  session: RemoteSession;
  timeline: SessionTimelineEntry[];
  canWrite: boolean;
  onSent: (e: SessionTimelineEntry) => void;
}) {
  const [text, setText] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const roleOf = (actor: string) => props.session.participants.find((p) => p.id === actor)?.role;
  const messages = props.timeline.filter((e) => e.kind === 'chat' || e.kind === 'photo');
  return (
    <section class="card session-chat" data-testid="session-chat">
      <h3>{t('session.chat')}</h3>
      <ol class="chat-list">
        {messages.map((e) => {
          const role = roleOf(e.actor);
          return (
            <li key={e.seq} data-seq={e.seq} class={role === 'crew' || role === 'guest' ? 'from-crew' : 'from-staff'}>
              <span class="chat-who">
                {personName(e.actorName)}
                {role && <span class="muted"> · {t(`session.role.${role}` as MessageKey)}</span>}
              </span>{' '}
              <span class="muted chat-at">{time(e.at)}</span>
              {e.kind === 'photo' ? (
                <PhotoThumb sessionId={props.session.id} entry={e} />
              ) : (
                <p class="chat-text">{e.text}</p>
              )}
            </li>
          );
        })}
      </ol>
      {messages.length === 0 && <p class="muted">{t('session.chat.none')}</p>}
      {props.canWrite && (
        <form
          class="chat-form"
          onSubmit={async (ev) => {
            ev.preventDefault();
            const words = text.trim();
            if (!words) return;
            try {
              const res = await api.post<{ entry: SessionTimelineEntry }>(`/api/sessions/${props.session.id}/chat`, {
                text: words,
              });
              props.onSent(res.entry);
              setText('');
              setErr(null);
            } catch (x) {
              setErr(errorText(x));
            }
          }}
        >
          <input
            class="grow"
            maxLength={2000}
            value={text}
            placeholder={t('session.chat.placeholder')}
            onInput={(e) => setText(e.currentTarget.value)}
            data-testid="chat-input"
          />
          <button type="submit" data-testid="chat-send">
            {t('session.chat.send')}
          </button>
          {err && <span class="error-inline">{err}</span>}
        </form>
      )}
      {props.canWrite && <AttachPhoto sessionId={props.session.id} onSent={props.onSent} />}
    </section>
  );
}
