/**
 * Stock-taking (盘点) on the stock page: a count sheet per store with what the ledger says, the
 * counted quantities with a reason for each difference, and the differences booked as
 * adjustments (who and why). Supply chain and admins count and book; others read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAct } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { StoreSelect, type StoreRef } from './stock-pickers.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t } from '../i18n.ts';

interface Count {
  id: number;
  storeId: string;
  status: 'open' | 'booked';
  bookedBy: string | null;
  createdAt: number;
  lines: {
    partNo: string;
    expected: number;
    counted: number | null;
    difference: number | null;
    reason: string | null;
  }[];
}

export function StockCounts({ edit }: { edit: boolean }) {
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const counts = useLoad(() => api.get<{ counts: Count[] }>('/api/stock/counts'), []);
  const [store, setStore] = useState('');
  const [entries, setEntries] = useState<Record<string, { counted: string; reason: string }>>({});
  const { err, act } = useAct(counts.reload);
  const open = counts.data?.counts.find((c) => c.status === 'open');
  return (
    <>
      {err && <div class="error">{err}</div>}
      {edit && (
        <div class="form-row">
          <StoreSelect stores={stores.data?.stores ?? []} name="count-store" value={store} set={setStore} />
          <button
            type="button"
            disabled={!store}
            onClick={() => void act(api.post('/api/stock/counts', { storeId: store }))}
          >
            {t('stock.openCount')}
          </button>
        </div>
      )}
      {open && (
        <section class="card" data-testid="count-sheet">
          <h3>
            {t('stock.counts')} #{open.id} · {open.storeId}
          </h3>
          <DataTable
            rows={open.lines}
            rowKey={(l) => l.partNo}
            columns={[
              { label: t('stock.partNo'), cell: (l) => l.partNo },
              { label: t('stock.expectedQty'), cell: (l) => l.expected },
              {
                label: t('stock.counted'),
                cell: (l) => (
                  <input
                    type="number"
                    min={0}
                    disabled={!edit}
                    value={entries[l.partNo]?.counted ?? l.counted ?? ''}
                    onInput={(e) =>
                      setEntries({
                        ...entries,
                        [l.partNo]: { reason: l.reason ?? '', ...entries[l.partNo], counted: e.currentTarget.value },
                      })
                    }
                  />
                ),
              },
              { label: t('stock.difference'), cell: (l) => l.difference ?? '' },
              {
                label: t('stock.reason'),
                cell: (l) => (
                  <input
                    disabled={!edit}
                    value={entries[l.partNo]?.reason ?? l.reason ?? ''}
                    onInput={(e) =>
                      setEntries({
                        ...entries,
                        [l.partNo]: {
                          counted: String(l.counted ?? ''),
                          ...entries[l.partNo],
                          reason: e.currentTarget.value,
                        },
                      })
                    }
                  />
                ),
              },
            ]}
          />
          {edit && (
            <>
              <button
                type="button"
                onClick={() =>
                  void act(
                    api.post(`/api/stock/counts/${open.id}/lines`, {
                      lines: Object.entries(entries)
                        .filter(([, v]) => v.counted !== '')
                        .map(([partNo, v]) => ({ partNo, counted: Number(v.counted), reason: v.reason || null })),
                    }),
                  ).then(() => setEntries({}))
                }
              >
                {t('stock.saveCounts')}
              </button>
              <button type="button" onClick={() => void act(api.post(`/api/stock/counts/${open.id}/book`, {}))}>
                {t('stock.book')}
              </button>
            </>
          )}
        </section>
      )}
      <DataTable
        rows={(counts.data?.counts ?? []).filter((c) => c.status === 'booked')}
        rowKey={(c) => c.id}
        columns={[
          { label: '#', cell: (c) => c.id },
          { label: t('stock.store'), cell: (c) => c.storeId },
          { label: t('stock.status'), cell: (c) => t('stock.booked', { who: c.bookedBy ?? '' }) },
          {
            label: t('stock.difference'),
            cell: (c) =>
              c.lines
                .filter((l) => l.difference)
                .map((l) => `${l.partNo} ${l.difference! > 0 ? '+' : ''}${l.difference} (${l.reason ?? ''})`)
                .join('; '),
          },
          { label: '', cell: (c) => dateTime(c.createdAt) },
        ]}
      />
    </>
  );
}
