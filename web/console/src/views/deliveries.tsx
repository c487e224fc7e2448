/** Notification deliveries (admin, dispatcher): status, channel, receiver, tries, last error; re-send a failed one; targets their receiver disabled. */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DataTable } from '../components/data-table.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';
import type { DeliveryView } from '../types.ts';

const STATUSES = ['pending', 'held', 'delivered', 'failed', 'merged'] as const;
const CHANNELS = ['email', 'webhook', 'dingtalk', 'wecom', 'inbox'] as const;

interface Page {
  deliveries: DeliveryView[];
  nextCursor: string | null;
}
interface DisabledTarget {
  id: string;
  channel: string;
  reason: string;
  disabledAt: number;
}

export function Deliveries() {
  useLang();
  const [status, setStatus] = useState('');
  const [channel, setChannel] = useState('');
  const [more, setMore] = useState<Page | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const query = { limit: 100, ...(status ? { status } : {}), ...(channel ? { channel } : {}) };
  const list = useLoad(() => {
    setMore(null);
    return api.get<Page>('/api/notifications', query);
  }, [status, channel]);
  const targets = useLoad(() => api.get<{ targets: DisabledTarget[] }>('/api/notifications/targets'), []);
  const rows = [...(list.data?.deliveries ?? []), ...(more?.deliveries ?? [])];
  const next = more ? more.nextCursor : (list.data?.nextCursor ?? null);
  const act = (fn: () => Promise<unknown>) => {
    setActionError(null);
    fn().then(
      () => {
        list.reload();
        targets.reload();
      },
      (err: unknown) => setActionError(errorText(err)),
    );
  };
  const loadMore = () =>
    void api
      .get<Page>('/api/notifications', { ...query, cursor: next! })
      .then((p) => setMore({ deliveries: [...(more?.deliveries ?? []), ...p.deliveries], nextCursor: p.nextCursor }));

  return (
    <div class="view deliveries" data-testid="deliveries-view">
      <h2>{t('deliveries.title')}</h2>
      <div class="toolbar">
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} aria-label={t('common.status')}>
          <option value="">
            {t('common.status')}: {t('common.all')}
          </option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`deliveries.status.${s}` as MessageKey)}
            </option>
          ))}
        </select>
        <select
          value={channel}
          onChange={(e) => setChannel(e.currentTarget.value)}
          aria-label={t('deliveries.col.channel')}
        >
          <option value="">
            {t('deliveries.col.channel')}: {t('common.all')}
          </option>
          {CHANNELS.map((c) => (
            <option key={c} value={c}>
              {t(`deliveries.channel.${c}` as MessageKey)}
            </option>
          ))}
        </select>
        <button type="button" onClick={list.reload}>
          {t('common.refresh')}
        </button>
      </div>
      <ErrorBox error={list.error} />
      {actionError ? (
        <div class="error" role="alert">
          {actionError}
        </div>
      ) : null}
      {targets.data?.targets.length ? (
        <section class="disabled-targets">
          <h3>{t('deliveries.disabled')}</h3>
          <ul>
            {targets.data.targets.map((x) => (
              <li key={x.id}>
                {t(`deliveries.channel.${x.channel}` as MessageKey)} <strong>{x.id}</strong> · {dateTime(x.disabledAt)}{' '}
                · <span class="muted">{x.reason}</span>{' '}
                {me().role === 'admin' ? (
                  <button
                    type="button"
                    onClick={() => act(() => api.post(`/api/notifications/targets/${encodeURIComponent(x.id)}/enable`))}
                  >
                    {t('deliveries.enable')}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {list.data ? (
        rows.length ? (
          <DataTable
            rows={rows}
            rowKey={(d) => d.id}
            rowClass={(d) => `delivery-${d.status}`}
            rowAttrs={(d) => ({ 'data-delivery': d.key, 'data-status': d.status, 'data-tries': d.tries })}
            columns={[
              { label: t('deliveries.col.created'), cell: (d) => dateTime(d.createdAt) },
              { label: t('common.status'), cell: (d) => t(`deliveries.status.${d.status}` as MessageKey) },
              { label: t('deliveries.col.channel'), cell: (d) => t(`deliveries.channel.${d.channel}` as MessageKey) },
              { label: t('deliveries.col.target'), cell: (d) => d.target },
              {
                label: t('deliveries.col.subject'),
                cell: (d) => (d.ticketId !== null ? <a href={`#/tickets/${d.ticketId}`}>{d.subject}</a> : d.subject),
              },
              { label: t('deliveries.col.tries'), cell: (d) => d.tries },
              {
                label: t('deliveries.col.next'),
                cell: (d) => (d.status === 'pending' || d.status === 'held' ? dateTime(d.nextAt) : '—'),
              },
              { label: t('deliveries.col.error'), cell: (d) => d.lastError ?? '—', class: 'muted' },
              {
                label: '',
                class: 'actions',
                cell: (d) =>
                  d.status === 'failed' ? (
                    <button
                      type="button"
                      data-testid={`resend-${d.id}`}
                      onClick={() => act(() => api.post(`/api/notifications/${d.id}/resend`))}
                    >
                      {t('deliveries.resend')}
                    </button>
                  ) : null,
              },
            ]}
          />
        ) : (
          <p class="muted">{t('common.empty')}</p>
        )
      ) : (
        <p class="muted">{t('common.loading')}</p>
      )}
      {next ? (
        <button type="button" onClick={loadMore}>
          {t('deliveries.more')}
        </button>
      ) : null}
    </div>
  );
}
