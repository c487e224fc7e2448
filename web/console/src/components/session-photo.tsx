/**
 * Photos in a remote session's chat: the "Attach photo" control (JPEG, PNG or WebP up to 5 MB, sent
 * as the raw file with its own type to POST /api/sessions/:id/photos) and a `photo` timeline entry
 * shown as a thumbnail (the photo's URL, read with the viewer's cookie) with its caption.
 */
import { useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { t } from '../i18n.ts';
import type { SessionTimelineEntry } from '../session-state.ts';

export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;

interface PhotoData {
  photoId: string;
  caption: string | null;
}

function photoData(e: SessionTimelineEntry): PhotoData | null {
  const d = e.data as Partial<PhotoData> | null;
  return d && typeof d.photoId === 'string' ? { photoId: d.photoId, caption: d.caption ?? null } : null;
}

export function PhotoThumb({ sessionId, entry }: { sessionId: number; entry: SessionTimelineEntry }) {
  const d = photoData(entry);
  if (!d) return null;
  const src = `/api/sessions/${sessionId}/photos/${encodeURIComponent(d.photoId)}`;
  return (
    <figure class="chat-photo" data-testid="chat-photo" data-photo={d.photoId}>
      <a href={src} target="_blank" rel="noopener noreferrer">
        <img src={src} alt={d.caption ?? t('session.kind.photo')} loading="lazy" />
      </a>
      {d.caption && <figcaption>{d.caption}</figcaption>}
    </figure>
  );
}

export function AttachPhoto(props: { sessionId: number; onSent: (e: SessionTimelineEntry) => void }) {
  const [caption, setCaption] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const send = async (file: File) => {
    if (!(PHOTO_TYPES as readonly string[]).includes(file.type)) return setErr(t('photo.badType'));
    if (file.size > PHOTO_MAX_BYTES) return setErr(t('photo.tooLarge'));
    setBusy(true);
    setErr(null);
    try {
      const words = caption.trim();
      const res = await api.upload<{ entry: SessionTimelineEntry }>(
        `/api/sessions/${props.sessionId}/photos`,
        file,
        file.type,
        words ? { caption: words } : undefined,
      );
      props.onSent(res.entry);
      setCaption('');
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  };
  return (
    <div class="attach-photo" data-testid="attach-photo">
      <label class="button">
        {t('photo.attach')}
        <input
          ref={input}
          type="file"
          accept={PHOTO_TYPES.join(',')}
          class="visually-hidden"
          disabled={busy}
          data-testid="photo-input"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f) void send(f);
          }}
        />
      </label>
      <input
        class="grow"
        maxLength={500}
        value={caption}
        placeholder={t('photo.caption')}
        onInput={(e) => setCaption(e.currentTarget.value)}
        data-testid="photo-caption"
      />
      <span class="muted">{busy ? t('photo.sending') : t('photo.limit')}</span>
      {err && (
        <span class="error-inline" role="alert" data-testid="photo-error">
          {err}
        </span>
      )}
    </div>
  );
}
