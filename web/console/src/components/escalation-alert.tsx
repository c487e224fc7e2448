/**
 * A missed deadline escalated to this account (issue 15, item 3): a banner with a link to each
 * ticket, a tone and a browser notification (alert.ts), and the tab's title starts with "(!)" until
 * the banner is dismissed. Others see the escalation on the ticket (its timeline names who).
 */
import { useEffect, useState } from 'preact/hooks';
import { browserNotify, markTab, tone } from '../alert.ts';
import { escalationFor } from '../escalation.ts';
import { t, useLang } from '../i18n.ts';
import { onLive } from '../live.ts';
import { me } from '../session.ts';

type Escalated = NonNullable<ReturnType<typeof escalationFor>>;

export function EscalationAlert() {
  useLang();
  const [items, setItems] = useState<Escalated[]>([]);
  useEffect(
    () =>
      onLive('ticket', (m) => {
        const e = escalationFor(m, me().id);
        if (!e) return;
        setItems((cur) => {
          // one breach may miss two deadlines: one alert per ticket
          if (cur.some((x) => x.id === e.id)) return cur;
          tone(990, 0.8);
          browserNotify(t('alert.escalated'), t('alert.escalatedText', { n: e.number }), `escalated-${e.id}`);
          return [e, ...cur].slice(0, 5);
        });
      }),
    [],
  );
  useEffect(() => markTab(items.length > 0), [items.length]);
  if (items.length === 0) return null;
  return (
    <div class="escalation-alert" role="alert" data-testid="escalation-alert">
      {items.map((e) => (
        <p key={e.id}>
          ⚠ {t('alert.escalatedText', { n: e.number })} — <a href={`#/tickets/${e.id}`}>{e.title}</a>{' '}
          <button type="button" class="link" onClick={() => setItems((cur) => cur.filter((x) => x.id !== e.id))}>
            ✕
          </button>
        </p>
      ))}
    </div>
  );
}
