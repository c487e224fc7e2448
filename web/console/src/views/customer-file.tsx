/** The customer file (客户信息系统/服务记录系统): search units by name, vehicle, ticket or service order number; a unit's contacts, vehicles, tickets, service orders, surveys, reports. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox, LevelBadge, StatusBadge } from '../components/badges.tsx';
import { DataTable } from '../components/data-table.tsx';
import { dateTime } from '../format.ts';
import { navigate, useLoad } from '../hooks.ts';
import { getLang, t, useLang, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';

interface Match {
  customerId: string;
  name: string;
  matched: 'unit' | 'vehicle' | 'ticket' | 'order';
  detail: string;
}
interface CustomerFile {
  unit: { id: string; name: string };
  contacts: { id: number; name: string; role: string | null; phone: string | null; email: string | null }[];
  vehicles: { id: string; name: string; model: string; deliveredAt: number | null }[];
  tickets: {
    id: number;
    number: string;
    level: string;
    status: string;
    title: string;
    vehicleId: string | null;
    receivedAt: number;
    closedAt: number | null;
  }[];
  ticketCount: number;
  surveys: {
    ticketId: number;
    ticketNumber: string;
    sentAt: number;
    answeredAt: number | null;
    scores: { response: number; quality: number; attitude: number } | null;
    comments: string | null;
  }[];
  orders: {
    id: number;
    number: string;
    kind: string;
    kindLabel: { zh: string; en: string };
    status: string;
    title: string;
    requestedDate: string;
    scheduledStart: number | null;
    signedOff: boolean;
  }[];
  orderCount: number;
  reports: {
    kind: string;
    title: { zh: string; en: string };
    ticketId: number | null;
    orderId: number | null;
    number: string;
    availableAt: number;
    html: string;
    pdf: string;
  }[];
}

export function CustomerFiles({ id }: { id?: string | undefined }) {
  const lang = useLang();
  const own = me().customerId;
  const unit = id ?? own ?? undefined;
  const [q, setQ] = useState('');
  const [matches, setMatches] = useState<Match[] | null>(null);
  const file = useLoad(
    () =>
      unit ? api.get<{ file: CustomerFile }>(`/api/customers/${encodeURIComponent(unit)}/file`) : Promise.resolve(null),
    [unit],
  );
  const f = file.data?.file;
  return (
    <div class="view customer-file" data-testid="customer-file-view">
      <h2>{t('files.title')}</h2>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim())
            void api
              .get<{ matches: Match[] }>('/api/customer-files', { q: q.trim() })
              .then((r) => setMatches(r.matches));
        }}
      >
        <input
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          placeholder={t('files.search')}
          aria-label={t('files.search')}
        />
        <button type="submit">{t('common.search')}</button>
      </form>
      {matches && (
        <ul data-testid="file-matches">
          {matches.length === 0 && <li class="muted">{t('common.empty')}</li>}
          {matches.map((m) => (
            <li key={`${m.customerId}-${m.matched}-${m.detail}`}>
              <a
                href={`#/files/${encodeURIComponent(m.customerId)}`}
                onClick={() => navigate(`/files/${m.customerId}`)}
              >
                {m.name}
              </a>{' '}
              <span class="muted">
                {t(`files.matched.${m.matched}` as MessageKey)}: {m.detail}
              </span>
            </li>
          ))}
        </ul>
      )}
      {file.error && <ErrorBox error={file.error} />}
      {f && (
        <>
          <h3 data-testid="file-unit">
            {f.unit.name} ({f.unit.id})
          </h3>
          <h4>{t('files.contacts')}</h4>
          <DataTable
            rows={f.contacts}
            rowKey={(c) => c.id}
            columns={[
              { label: t('common.name'), cell: (c) => c.name },
              { label: '', cell: (c) => c.role ?? '' },
              { label: '☎', cell: (c) => c.phone ?? '' },
              { label: '@', cell: (c) => c.email ?? '' },
            ]}
          />
          <h4>{t('files.vehicles')}</h4>
          <DataTable
            rows={f.vehicles}
            rowKey={(v) => v.id}
            columns={[
              {
                label: t('common.vehicle'),
                cell: (v) => <a href={`#/vehicles/${encodeURIComponent(v.id)}`}>{`${v.name} (${v.id})`}</a>,
              },
              { label: t('files.model'), cell: (v) => v.model },
              { label: t('files.delivered'), cell: (v) => dateTime(v.deliveredAt).slice(0, 10) },
            ]}
          />
          <h4>
            {t('files.tickets')} ({f.ticketCount})
          </h4>
          <DataTable
            rows={f.tickets}
            rowKey={(tk) => tk.id}
            columns={[
              { label: '#', cell: (tk) => <a href={`#/tickets/${tk.id}`}>{tk.number}</a> },
              { label: '', cell: (tk) => <LevelBadge level={tk.level} /> },
              { label: t('common.status'), cell: (tk) => <StatusBadge status={tk.status} /> },
              { label: t('common.vehicle'), cell: (tk) => tk.vehicleId ?? '—' },
              { label: t('common.at'), cell: (tk) => dateTime(tk.receivedAt) },
            ]}
          />
          <h4>
            {t('files.orders')} ({f.orderCount})
          </h4>
          {f.orders.length === 0 && <p class="muted">{t('orders.none')}</p>}
          <DataTable
            rows={f.orders}
            rowKey={(o) => o.id}
            rowAttrs={() => ({ 'data-testid': 'file-order' })}
            columns={[
              { label: '#', cell: (o) => <a href={`#/orders/${o.id}`}>{o.number}</a> },
              { label: t('orders.kind'), cell: (o) => o.kindLabel[lang] },
              { label: t('common.status'), cell: (o) => t(`orders.status.${o.status}` as MessageKey) },
              { label: t('orders.date'), cell: (o) => o.requestedDate },
              { label: t('orders.start'), cell: (o) => dateTime(o.scheduledStart) },
              { label: t('files.signedOff'), cell: (o) => t(o.signedOff ? 'common.yes' : 'common.no') },
            ]}
          />
          <h4>{t('files.surveys')}</h4>
          <DataTable
            rows={f.surveys}
            rowKey={(s) => s.ticketId}
            columns={[
              { label: '#', cell: (s) => <a href={`#/tickets/${s.ticketId}`}>{s.ticketNumber}</a> },
              { label: t('common.at'), cell: (s) => dateTime(s.sentAt) },
              {
                label: t('stats.col.scores'),
                cell: (s) =>
                  s.scores ? `${s.scores.response} / ${s.scores.quality} / ${s.scores.attitude}` : t('survey.waiting'),
              },
              { label: t('survey.comments'), cell: (s) => s.comments ?? '' },
            ]}
          />
          <h4>{t('files.reports')}</h4>
          {f.reports.length === 0 && <p class="muted">{t('files.noReports')}</p>}
          <DataTable
            rows={f.reports}
            rowKey={(r) => `${r.kind}-${r.ticketId ?? ''}-${r.orderId ?? ''}`}
            rowAttrs={() => ({ 'data-testid': 'file-report' })}
            columns={[
              { label: t('files.reports'), cell: (r) => `《${r.title.zh}》${lang === 'en' ? ` ${r.title.en}` : ''}` },
              {
                label: t('files.reportOf'),
                cell: (r) =>
                  r.orderId !== null ? (
                    <a href={`#/orders/${r.orderId}`}>{r.number}</a>
                  ) : (
                    <a href={`#/tickets/${r.ticketId}`}>{r.number}</a>
                  ),
              },
              { label: t('files.available'), cell: (r) => dateTime(r.availableAt) },
              {
                label: '',
                cell: (r) => (
                  <span data-testid="file-report-links">
                    <a href={`${r.html}?lang=${getLang()}`} target="_blank" rel="noopener noreferrer">
                      {t('ticket.reportView')}
                    </a>{' '}
                    ·{' '}
                    <a href={`${r.pdf}?lang=${getLang()}`} download>
                      {t('ticket.reportPdf')}
                    </a>
                  </span>
                ),
              },
            ]}
          />
        </>
      )}
    </div>
  );
}
