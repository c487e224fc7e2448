/**
 * Shortage tasks (缺件) on the stock page: the plan's path for a part no store has and no contract
 * covers — machining documents (加工技术文件) or a purchase list (采购清单) — open ones first, each
 * marked done with its outcome (what was made or bought, the document number). The duty desk,
 * supply chain and admins mark them done; engineers read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { DataTable } from './data-table.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';

interface Shortage {
  id: number;
  partNo: string;
  qty: number;
  ticketId: number | null;
  kind: 'machining_documents' | 'purchase_list';
  status: 'open' | 'done';
  note: string | null;
  createdBy: string;
  createdAt: number;
  doneBy: string | null;
  doneAt: number | null;
  outcome: string | null;
}

export function StockShortages({ canComplete }: { canComplete: boolean }) {
  const shortages = useLoad(() => api.get<{ shortages: Shortage[] }>('/api/stock/shortages'), []);
  const [outcomes, setOutcomes] = useState<Record<number, string>>({});
  const [err, setErr] = useState<string | null>(null);
  const all = shortages.data?.shortages ?? [];
  const open = all.filter((s) => s.status === 'open');
  const done = all.filter((s) => s.status === 'done');
  const complete = (s: Shortage) =>
    api.post(`/api/stock/shortages/${s.id}/done`, { outcome: (outcomes[s.id] ?? '').trim() }).then(
      () => {
        setErr(null);
        setOutcomes({ ...outcomes, [s.id]: '' });
        shortages.reload();
      },
      (e: unknown) => setErr(errorText(e)),
    );
  const common = [
    { label: '#', cell: (s: Shortage) => s.id },
    { label: t('stock.partNo'), cell: (s: Shortage) => `${s.partNo} × ${s.qty}` },
    { label: t('stock.shortage.kind'), cell: (s: Shortage) => t(`stock.shortage.kind.${s.kind}` as MessageKey) },
    { label: t('stock.shortage.ticket'), cell: (s: Shortage) => (s.ticketId ? `#${s.ticketId}` : '') },
    { label: t('stock.shortage.note'), cell: (s: Shortage) => s.note ?? '' },
  ];
  return (
    <div data-testid="stock-shortages">
      {err && <div class="error">{err}</div>}
      <ErrorBox error={shortages.error} />
      <h3>{t('stock.shortage.open')}</h3>
      {shortages.data && open.length === 0 && <p class="muted">{t('stock.shortage.none')}</p>}
      <DataTable
        rows={open}
        rowKey={(s) => s.id}
        columns={[
          ...common,
          { label: t('stock.shortage.raised'), cell: (s) => `${dateTime(s.createdAt)} · ${s.createdBy}` },
          {
            label: t('stock.shortage.outcome'),
            class: 'actions',
            cell: (s) =>
              canComplete && (
                <span data-shortage={s.id}>
                  <input
                    name="outcome"
                    maxLength={2000}
                    placeholder={t('stock.shortage.outcomeHint')}
                    value={outcomes[s.id] ?? ''}
                    onInput={(e) => setOutcomes({ ...outcomes, [s.id]: e.currentTarget.value })}
                  />
                  <button type="button" disabled={!(outcomes[s.id] ?? '').trim()} onClick={() => void complete(s)}>
                    {t('stock.shortage.done')}
                  </button>
                </span>
              ),
          },
        ]}
      />
      <h3>{t('stock.shortage.closed')}</h3>
      <DataTable
        rows={done}
        rowKey={(s) => s.id}
        columns={[
          ...common,
          { label: t('stock.shortage.outcome'), cell: (s) => s.outcome ?? '' },
          { label: t('stock.shortage.doneBy'), cell: (s) => `${dateTime(s.doneAt)} · ${s.doneBy ?? ''}` },
        ]}
      />
    </div>
  );
}
