/**
 * Notifications: a customer manages who of its unit is told what (contacts, channels, language,
 * quiet hours, subscriptions by vehicle and minimum level); a staff member sets its own contact
 * settings and sees the pages waiting for an acknowledgement.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { loc, t, useLang, type MessageKey } from '../i18n.ts';
import { getMeta, isStaff, me } from '../session.ts';
import type { NotificationContact, StaffPage } from '../types.ts';
import { DateTimeInput } from '../components/date-input.tsx';

type ContactBody = Omit<NotificationContact, 'id' | 'customerId' | 'accountId' | 'subscriptions' | 'updatedAt'>;

export function Notifications() {
  useLang();
  const account = me();
  return (
    <div class="view notifications" data-testid="notifications-view">
      <h2>{t('notify.title')}</h2>
      {isStaff(account.role) ? (
        <>
          <OwnContact />
          <OpenPages />
        </>
      ) : (
        <UnitContacts customerId={account.customerId ?? ''} />
      )}
    </div>
  );
}

const channelsText = (c: ContactBody['channels']) => c.map((x) => `${x.channel}:${x.target}`).join('\n');
function parseChannels(text: string): ContactBody['channels'] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(':');
      return { channel: l.slice(0, i) as ContactBody['channels'][number]['channel'], target: l.slice(i + 1).trim() };
    });
}

const EMPTY: ContactBody = {
  name: '',
  role: null,
  phone: null,
  email: null,
  language: 'zh',
  channels: [],
  quietHours: null,
  timeZone: 'Asia/Shanghai',
};

/** The fields of one contact; `onSave` gets the API body. */
function ContactForm({
  initial,
  staff,
  submit,
  onSave,
}: {
  initial: ContactBody;
  staff?: boolean;
  submit: string;
  onSave: (body: object) => Promise<void>;
}) {
  const [c, setC] = useState(initial);
  const [channels, setChannels] = useState(channelsText(initial.channels));
  const [err, setErr] = useState<string | null>(null);
  const [ok, setOk] = useState(false);
  const set = (patch: Partial<ContactBody>) => setC({ ...c, ...patch });
  return (
    <form
      class="form-grid"
      onSubmit={async (e) => {
        e.preventDefault();
        setErr(null);
        setOk(false);
        try {
          await onSave({
            name: c.name,
            ...(c.role ? { role: c.role } : {}),
            ...(c.phone ? { phone: c.phone } : {}),
            ...(c.email ? { email: c.email } : {}),
            language: c.language,
            channels: parseChannels(channels),
            quietHours: c.quietHours?.from && c.quietHours.to ? c.quietHours : null,
            timeZone: c.timeZone,
          });
          setOk(true);
        } catch (x) {
          setErr(errorText(x));
        }
      }}
    >
      <label>
        {t('notify.name')}{' '}
        <input required maxLength={100} value={c.name} onInput={(e) => set({ name: e.currentTarget.value })} />
      </label>
      {!staff && (
        <>
          <label>
            {t('notify.role')}{' '}
            <input maxLength={100} value={c.role ?? ''} onInput={(e) => set({ role: e.currentTarget.value || null })} />
          </label>
          <label>
            {t('notify.phone')}{' '}
            <input value={c.phone ?? ''} onInput={(e) => set({ phone: e.currentTarget.value || null })} />
          </label>
        </>
      )}
      <label>
        {t('notify.email')}{' '}
        <input type="email" value={c.email ?? ''} onInput={(e) => set({ email: e.currentTarget.value || null })} />
      </label>
      <label>
        {t('notify.language')}{' '}
        <select value={c.language} onChange={(e) => set({ language: e.currentTarget.value as 'en' | 'zh' })}>
          <option value="zh">中文</option>
          <option value="en">English</option>
        </select>
      </label>
      <label>
        {t('notify.channels')}
        <textarea
          rows={3}
          value={channels}
          placeholder={t('notify.channelsHint')}
          onInput={(e) => setChannels(e.currentTarget.value)}
        />
      </label>
      <label>
        {t('notify.quiet')} {t('notify.quietFrom')}{' '}
        <DateTimeInput
          kind="time"
          value={c.quietHours?.from ?? ''}
          onInput={(e) => set({ quietHours: { from: e.currentTarget.value, to: c.quietHours?.to ?? '' } })}
        />{' '}
        {t('notify.quietTo')}{' '}
        <DateTimeInput
          kind="time"
          value={c.quietHours?.to ?? ''}
          onInput={(e) => set({ quietHours: { from: c.quietHours?.from ?? '', to: e.currentTarget.value } })}
        />
      </label>
      <label>
        {t('notify.timeZone')} <input value={c.timeZone} onInput={(e) => set({ timeZone: e.currentTarget.value })} />
      </label>
      <div class="toolbar">
        <button type="submit" class="primary">
          {submit}
        </button>
        {ok && <span class="ok">{t('notify.saved')}</span>}
        {err && <span class="error-inline">{err}</span>}
      </div>
    </form>
  );
}

function UnitContacts({ customerId }: { customerId: string }) {
  const list = useLoad(
    () => api.get<{ contacts: NotificationContact[] }>(`/api/customers/${encodeURIComponent(customerId)}/contacts`),
    [customerId],
  );
  if (list.error) return <ErrorBox error={list.error} />;
  const contacts = list.data?.contacts ?? [];
  return (
    <section class="card">
      <h3>{t('notify.unitContacts', { unit: customerId })}</h3>
      <p class="muted">{t('notify.unitHint')}</p>
      {contacts.length === 0 && <p class="muted">{t('notify.none')}</p>}
      {contacts.map((c) => (
        <div key={`${c.id}-${c.updatedAt}`} class="card" data-testid={`contact-${c.id}`}>
          <ContactForm
            initial={c}
            submit={t('common.save')}
            onSave={async (body) => {
              await api.put(`/api/contacts/${c.id}`, body);
              list.reload();
            }}
          />
          <Subscription contact={c} onDone={list.reload} />
          <button type="button" class="danger" onClick={() => void api.del(`/api/contacts/${c.id}`).then(list.reload)}>
            {t('common.remove')}
          </button>
        </div>
      ))}
      <h4>{t('notify.add')}</h4>
      <ContactForm
        key={contacts.length}
        initial={EMPTY}
        submit={t('notify.add')}
        onSave={async (body) => {
          await api.post(`/api/customers/${encodeURIComponent(customerId)}/contacts`, body);
          list.reload();
        }}
      />
    </section>
  );
}

/** One subscription per contact here: a minimum level and, optionally, one vehicle (the API takes more). */
function Subscription({ contact, onDone }: { contact: NotificationContact; onDone: () => void }) {
  const first = contact.subscriptions[0];
  const [level, setLevel] = useState(first?.minLevel ?? '');
  const [vehicle, setVehicle] = useState(first?.vehicleId ?? '');
  const [err, setErr] = useState<string | null>(null);
  const levels = getMeta().ticketLevels;
  return (
    <div class="toolbar">
      <label>
        {t('notify.minLevel')}{' '}
        <select value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
          <option value="">{t('notify.everything')}</option>
          {Object.entries(levels).map(([k, l]) => (
            <option key={k} value={k}>
              {loc(l)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('notify.vehicle')}{' '}
        <input
          placeholder={t('notify.allVehicles')}
          value={vehicle}
          onInput={(e) => setVehicle(e.currentTarget.value)}
        />
      </label>
      <button
        type="button"
        onClick={() =>
          api
            .put(`/api/contacts/${contact.id}/subscriptions`, {
              subscriptions: level
                ? [{ minLevel: level, ...(vehicle.trim() ? { vehicleId: vehicle.trim() } : {}) }]
                : [],
            })
            .then(onDone, (x) => setErr(errorText(x)))
        }
      >
        {t('common.save')}
      </button>
      {err && <span class="error-inline">{err}</span>}
    </div>
  );
}

function OwnContact() {
  const own = useLoad(() => api.get<{ contact: NotificationContact | null }>('/api/me/contact'), []);
  if (own.error) return <ErrorBox error={own.error} />;
  if (!own.data) return <p class="muted">{t('common.loading')}</p>;
  return (
    <section class="card">
      <h3>{t('notify.own')}</h3>
      <p class="muted">{t('notify.ownHint')}</p>
      <ContactForm
        staff
        initial={own.data.contact ?? { ...EMPTY, name: me().name }}
        submit={t('common.save')}
        onSave={async (body) => {
          await api.put('/api/me/contact', body);
        }}
      />
    </section>
  );
}

function OpenPages() {
  const pages = useLoad(() => api.get<{ pages: StaffPage[] }>('/api/pages'), []);
  const [err, setErr] = useState<string | null>(null);
  const list = pages.data?.pages ?? [];
  return (
    <section class="card" data-testid="open-pages">
      <h3>{t('notify.pages')}</h3>
      {list.length === 0 && <p class="muted">{t('notify.noPages')}</p>}
      <ul>
        {list.map((p) => (
          <li key={p.id}>
            <span class="muted">{dateTime(p.pagedAt)}</span> {p.message} — {t('page.to', { who: p.accountId })}{' '}
            {p.ticketId !== null && <a href={`#/tickets/${p.ticketId}`}>#{p.ticketId}</a>}{' '}
            <span>{t(`page.state.${p.state}` as MessageKey)}</span>{' '}
            <button
              type="button"
              class="primary"
              onClick={() => api.post(`/api/pages/${p.id}/ack`, {}).then(pages.reload, (x) => setErr(errorText(x)))}
            >
              {t('page.ack')}
            </button>
          </li>
        ))}
      </ul>
      {err && <div class="error">{err}</div>}
    </section>
  );
}
