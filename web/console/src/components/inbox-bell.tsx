/**
 * The inbox bell in the top bar: the unread count, the newest items, mark read one by one or all.
 * New items arrive over the live channel (`inbox`); while the console is open they are also shown
 * as browser notifications (the Notifications API) once the person has allowed it — permission is
 * asked only from a click (opening the bell), as browsers require.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ago } from '../format.ts';
import { navigate } from '../hooks.ts';
import { t, useLang } from '../i18n.ts';
import { onLive } from '../live.ts';
import type { InboxItem } from '../types.ts';

interface Inbox {
  items: InboxItem[];
  unread: number;
}

const canNotify = () => typeof Notification !== 'undefined';

function showBrowserNotification(item: InboxItem): void {
  if (!canNotify() || Notification.permission !== 'granted') return;
  const n = new Notification(item.subject, { body: item.text.slice(0, 200), tag: `pw-inbox-${item.id}` });
  n.onclick = () => {
    window.focus();
    if (item.ticketId !== null) navigate(`/tickets/${item.ticketId}`);
    n.close();
  };
}

export function InboxBell() {
  useLang();
  const [open, setOpen] = useState(false);
  const [inbox, setInbox] = useState<Inbox>({ items: [], unread: 0 });
  const [permission, setPermission] = useState(canNotify() ? Notification.permission : 'denied');
  const load = () => void api.get<Inbox>('/api/inbox', { limit: 20 }).then(setInbox, () => undefined);

  useEffect(() => {
    load();
    return onLive('inbox', ({ item }) => {
      setInbox((cur) => ({
        items: [item, ...cur.items.filter((i) => i.id !== item.id)].slice(0, 20),
        unread: cur.unread + 1,
      }));
      showBrowserNotification(item);
    });
  }, []);

  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next) {
      load();
      // the click is the user gesture browsers want before asking
      if (canNotify() && Notification.permission === 'default')
        void Notification.requestPermission().then(setPermission);
    }
  };
  const markRead = (item: InboxItem) =>
    void api
      .post<{ item: InboxItem; unread: number }>(`/api/inbox/${item.id}/read`)
      .then((r) =>
        setInbox((cur) => ({ items: cur.items.map((i) => (i.id === item.id ? r.item : i)), unread: r.unread })),
      );
  const readAll = () =>
    void api.post<{ unread: number }>('/api/inbox/read-all').then((r) =>
      setInbox((cur) => ({
        items: cur.items.map((i) => ({ ...i, readAt: i.readAt ?? Date.now() })),
        unread: r.unread,
      })),
    );

  return (
    <span class="inbox">
      <button
        type="button"
        class="link bell"
        onClick={toggle}
        aria-expanded={open}
        aria-label={t('inbox.open', { n: inbox.unread })}
        data-testid="inbox-bell"
      >
        <svg viewBox="0 0 16 16" width="1.1em" height="1.1em" aria-hidden="true" focusable="false">
          {/* drawn, not an emoji: no emoji font needed */}
          <path
            d="M8 1.5a4.5 4.5 0 0 0-4.5 4.5v3L2 11.5h12L12.5 9V6A4.5 4.5 0 0 0 8 1.5zM6.3 13a1.8 1.8 0 0 0 3.4 0"
            fill="none"
            stroke="currentColor"
            stroke-width="1.4"
            stroke-linejoin="round"
          />
        </svg>
        {inbox.unread > 0 ? (
          <span class="count" data-testid="inbox-count">
            {inbox.unread > 99 ? '99+' : inbox.unread}
          </span>
        ) : null}
      </button>
      {open ? (
        <div class="inbox-panel" data-testid="inbox-panel" role="dialog" aria-label={t('inbox.title')}>
          <div class="inbox-head">
            <strong>{t('inbox.title')}</strong>
            {inbox.unread > 0 ? (
              <button type="button" class="link" onClick={readAll}>
                {t('inbox.readAll')}
              </button>
            ) : null}
          </div>
          {permission === 'denied' && canNotify() ? <p class="muted small">{t('inbox.browserDenied')}</p> : null}
          {inbox.items.length === 0 ? <p class="muted">{t('inbox.empty')}</p> : null}
          <ul>
            {inbox.items.map((item) => (
              <li key={item.id} class={item.readAt === null ? 'unread' : ''} data-inbox={item.id}>
                <div class="subject">
                  {item.ticketId !== null ? (
                    <a
                      href={`#/tickets/${item.ticketId}`}
                      onClick={() => {
                        if (item.readAt === null) markRead(item);
                        setOpen(false);
                      }}
                    >
                      {item.subject}
                    </a>
                  ) : (
                    item.subject
                  )}
                </div>
                <div class="muted small">{ago(item.deliveredAt ?? item.createdAt)}</div>
                <div class="text">{item.text}</div>
                {item.readAt === null ? (
                  <button type="button" class="link small" data-testid="inbox-read" onClick={() => markRead(item)}>
                    {t('inbox.markRead')}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </span>
  );
}
