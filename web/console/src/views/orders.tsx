/**
 * Service orders (服务申请): patrol inspection, training and accompanying support, requested by
 * application with place, date and people, and scheduled by the duty desk — planned services, not
 * emergencies (no 30-minute clock). A customer requests for its own unit and sees its own only.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DateTimeInput } from '../components/date-input.tsx';
import { Fact } from '../components/fact.tsx';
import { dateTime } from '../format.ts';
import { navigate, useLoad } from '../hooks.ts';
import { personName, t, useLang, type MessageKey } from '../i18n.ts';
import { isStaff, me } from '../session.ts';
import type { Customer, ServiceOrder, ServiceOrderEvent } from '../types.ts';
import type { OrderRecord } from '../../../../diagnostics/service-orders/order-records.ts';
import {
  OrderApplicationFacts,
  OrderApplicationFields,
  applicationBody,
  BLANK_APPLICATION,
} from '../components/order-application.tsx';
import { OrderRecords } from '../components/order-records.tsx';
import { OrderSignOff } from '../components/order-sign-off.tsx';
import { OrderTeam, type OrderTeamMember } from '../components/order-team.tsx';

const KINDS = ['patrol_inspection', 'training', 'accompanying_support'] as const;
const kindLabel = (k: string) => t(`orders.kind.${k}` as MessageKey);
const statusLabel = (s: string) => t(`orders.status.${s}` as MessageKey);
/** The events of an order's records (diagnostics/service-orders/order-records.ts), labelled in both languages. */
const EVENT_KEYS: Record<string, true> = Object.fromEntries(
  [
    'team_set',
    'visit_recorded',
    'material_recorded',
    'attendee_recorded',
    'session_recorded',
    'assessment_recorded',
    'log_recorded',
    'finding_linked',
    'signed_off',
  ].map((k) => [k, true]),
);

export function Orders() {
  useLang();
  const list = useLoad(() => api.get<{ orders: ServiceOrder[] }>('/api/service-orders?limit=500'), []);
  return (
    <div class="view orders">
      <div class="head">
        <h2>{t('orders.title')}</h2>
        {me().role !== 'engineer' && (
          <a class="button primary" href="#/orders/new" data-testid="order-new">
            {t('orders.new')}
          </a>
        )}
      </div>
      <p class="muted">{t('orders.noClock')}</p>
      {list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data ? (
        <p class="muted">{t('common.loading')}</p>
      ) : list.data.orders.length === 0 ? (
        <p class="muted">{t('orders.none')}</p>
      ) : (
        <table class="grid" data-testid="orders-table">
          <thead>
            <tr>
              <th>#</th>
              <th>{t('orders.kind')}</th>
              <th>{t('orders.status')}</th>
              <th>{t('common.customer')}</th>
              <th>{t('orders.place')}</th>
              <th>{t('orders.date')}</th>
              <th>{t('orders.start')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.orders.map((o) => (
              <tr key={o.id} data-status={o.status}>
                <td>
                  <a href={`#/orders/${o.id}`}>{o.number}</a>
                </td>
                <td>{kindLabel(o.kind)}</td>
                <td>{statusLabel(o.status)}</td>
                <td>{o.customerId}</td>
                <td>{o.place}</td>
                <td>{o.requestedDate}</td>
                <td>{o.scheduledStart !== null ? dateTime(o.scheduledStart) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function OrderForm() {
  useLang();
  const customer = me().role === 'customer';
  const customers = useLoad(
    () =>
      customer
        ? Promise.resolve({ customers: [] as Customer[] })
        : api.get<{ customers: Customer[] }>('/api/customers'),
    [],
  );
  const [f, setF] = useState({
    kind: 'patrol_inspection',
    customerId: '',
    title: '',
    details: '',
    place: '',
    requestedDate: '',
    people: '1',
    contactName: customer ? me().name : '',
    contactPhone: '',
  });
  const [app, setApp] = useState(BLANK_APPLICATION);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const r = await api.post<{ order: ServiceOrder }>('/api/service-orders', {
        kind: f.kind,
        ...(!customer && f.customerId ? { customerId: f.customerId } : {}),
        title: f.title,
        details: f.details,
        place: f.place,
        requestedDate: f.requestedDate,
        people: Number(f.people),
        contacts: [{ name: f.contactName, phone: f.contactPhone }],
        ...(applicationBody(f.kind, app) ? { application: applicationBody(f.kind, app) } : {}),
      });
      navigate(`/orders/${r.order.id}`);
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="view order-form">
      <h2>{t('orders.new')}</h2>
      <p class="muted">{t('orders.noClock')}</p>
      <form class="card form" onSubmit={submit} data-testid="order-form">
        <label>
          {t('orders.kind')}
          <select name="kind" value={f.kind} onChange={set('kind')}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
        {!customer && (
          <label>
            {t('orders.unit')}
            <select name="customer" value={f.customerId} required onChange={set('customerId')}>
              <option value="">—</option>
              {(customers.data?.customers ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.id})
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {t('request.subject')}
          <input name="title" required maxLength={200} value={f.title} onInput={set('title')} />
        </label>
        <label>
          {t('orders.details')}
          <textarea name="details" required maxLength={4000} value={f.details} onInput={set('details')} />
        </label>
        <label>
          {t('orders.place')}
          <input name="place" required maxLength={300} value={f.place} onInput={set('place')} />
        </label>
        <label>
          {t('orders.date')}
          <DateTimeInput kind="date" name="date" required value={f.requestedDate} onInput={set('requestedDate')} />
        </label>
        <label>
          {t('orders.people')}
          <input name="people" type="number" min={1} max={500} required value={f.people} onInput={set('people')} />
        </label>
        <OrderApplicationFields kind={f.kind} value={app} onChange={setApp} />
        <label>
          {t('request.contactName')}
          <input name="contact-name" required maxLength={100} value={f.contactName} onInput={set('contactName')} />
        </label>
        <label>
          {t('request.contactPhone')}
          <input name="contact-phone" required maxLength={40} value={f.contactPhone} onInput={set('contactPhone')} />
        </label>
        {err && (
          <div class="error" role="alert">
            {err}
          </div>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t('orders.submit')}
        </button>
      </form>
    </div>
  );
}

/** A local date-time as a date-time field takes it (components/date-input.tsx). */
const localInput = (ts: number) => new Date(ts - new Date(ts).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function OrderView({ id }: { id: string }) {
  useLang();
  const role = me().role;
  const d = useLoad(
    () =>
      api.get<{ order: ServiceOrder; events: ServiceOrderEvent[]; team: OrderTeamMember[]; records: OrderRecord[] }>(
        `/api/service-orders/${encodeURIComponent(id)}`,
      ),
    [id],
  );
  const [start, setStart] = useState(localInput(Date.now() + 86_400_000));
  const [end, setEnd] = useState('');
  const [team, setTeam] = useState('');
  const [note, setNote] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (d.error) return <ErrorBox error={d.error} />;
  if (!d.data) return <p class="muted">{t('common.loading')}</p>;
  const o = d.data.order;
  const act = async (body: object) => {
    setBusy(true);
    setErr(null);
    try {
      await api.post(`/api/service-orders/${o.id}/actions`, { ...body, ...(note.trim() ? { note: note.trim() } : {}) });
      setNote('');
      d.reload();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  const desk = role === 'admin' || role === 'dispatcher';
  const canSchedule = desk && (o.status === 'requested' || o.status === 'scheduled');
  const canCancel = (desk || role === 'customer') && (o.status === 'requested' || o.status === 'scheduled');
  return (
    <div class="view order" data-testid="order-view" data-status={o.status}>
      <h2>
        {t('orders.number', { n: o.number })} · {kindLabel(o.kind)}{' '}
        <span class="badge" data-testid="order-status">
          {statusLabel(o.status)}
        </span>
      </h2>
      <h3>{o.title}</h3>
      <div class="facts card">
        <Fact label={t('common.customer')}>{o.customerId}</Fact>
        <Fact label={t('orders.place')}>{o.place}</Fact>
        <Fact label={t('orders.date')}>{o.requestedDate}</Fact>
        <Fact label={t('orders.people')}>{o.people}</Fact>
        <Fact label={t('orders.requestedBy')}>{personName(o.requestedBy)}</Fact>
        <Fact label={t('orders.start')}>
          <span data-testid="order-start">{o.scheduledStart !== null ? dateTime(o.scheduledStart) : '—'}</span>
        </Fact>
        {o.scheduledEnd !== null && <Fact label={t('orders.end')}>{dateTime(o.scheduledEnd)}</Fact>}
        <Fact label={t('orders.team')}>
          <span data-testid="order-team">{o.team ?? '—'}</span>
        </Fact>
      </div>
      <OrderApplicationFacts order={o} />
      <section class="card">
        <p class="pre">{o.details}</p>
        <ul>
          {o.contacts.map((c, i) => (
            <li key={i}>
              {c.name} {c.phone && <a href={`tel:${c.phone}`}>{c.phone}</a>}
            </li>
          ))}
        </ul>
      </section>
      {(canSchedule || canCancel || (isStaff(role) && (o.status === 'scheduled' || o.status === 'in_progress'))) && (
        <section class="card" data-testid="order-actions">
          {canSchedule && (
            <form
              class="toolbar"
              data-testid="order-schedule"
              onSubmit={(e) => {
                e.preventDefault();
                void act({
                  action: 'schedule',
                  scheduledStart: new Date(start).getTime(),
                  ...(end ? { scheduledEnd: new Date(end).getTime() } : {}),
                  ...(team.trim() ? { team: team.trim() } : {}),
                });
              }}
            >
              <label>
                {t('orders.start')}{' '}
                <DateTimeInput
                  kind="datetime"
                  name="start"
                  required
                  value={start}
                  onInput={(e) => setStart(e.currentTarget.value)}
                />
              </label>
              <label>
                {t('orders.end')}{' '}
                <DateTimeInput kind="datetime" name="end" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
              </label>
              <input
                class="grow"
                name="team"
                placeholder={t('orders.team')}
                maxLength={500}
                value={team}
                onInput={(e) => setTeam(e.currentTarget.value)}
              />
              <button type="submit" class="primary" disabled={busy}>
                {t('orders.action.schedule')}
              </button>
            </form>
          )}
          <div class="toolbar">
            {isStaff(role) && o.status === 'scheduled' && (
              <button
                type="button"
                class="primary"
                disabled={busy}
                data-action="start"
                onClick={() => act({ action: 'start' })}
              >
                {t('orders.action.start')}
              </button>
            )}
            {isStaff(role) && o.status === 'in_progress' && (
              <button
                type="button"
                class="primary"
                disabled={busy}
                data-action="complete"
                onClick={() => act({ action: 'complete' })}
              >
                {t('orders.action.complete')}
              </button>
            )}
            {canCancel && (
              <button
                type="button"
                class="danger"
                disabled={busy}
                data-action="cancel"
                onClick={() => act({ action: 'cancel' })}
              >
                {t('orders.action.cancel')}
              </button>
            )}
            <input
              class="grow"
              placeholder={t('ticket.note')}
              maxLength={2000}
              value={note}
              onInput={(e) => setNote(e.currentTarget.value)}
            />
          </div>
          {err && (
            <div class="error" role="alert">
              {err}
            </div>
          )}
        </section>
      )}
      <OrderTeam
        key={JSON.stringify(d.data.team)}
        orderId={o.id}
        team={d.data.team}
        editable={desk && ['requested', 'scheduled', 'in_progress'].includes(o.status)}
        onSaved={d.reload}
      />
      <OrderRecords
        orderId={o.id}
        kind={o.kind}
        status={o.status}
        records={d.data.records}
        canRecord={isStaff(role)}
        onSaved={d.reload}
      />
      <OrderSignOff order={o} onSaved={d.reload} />
      <section class="card">
        <h3>{t('orders.events')}</h3>
        <ol class="timeline" data-testid="order-events">
          {d.data.events.map((e, i) => (
            <li key={i}>
              <span class="muted">{dateTime(e.at)}</span> <b>{personName(e.actor)}</b>{' '}
              {e.toStatus
                ? statusLabel(e.toStatus)
                : e.action in EVENT_KEYS
                  ? t(`orders.event.${e.action}` as MessageKey)
                  : e.action}
              {e.note && <div class="pre">{e.note}</div>}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
