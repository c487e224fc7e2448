/**
 * Spare parts (备品备件): the parts catalogue, the stock per store (from the ledger), purchase
 * orders with the replenishment proposals, transfers between stores (in transit), shortage tasks
 * (缺件) and stock-taking (盘点). Supply chain and admins edit;
 * the duty desk and engineers read.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DataTable } from '../components/data-table.tsx';
import { StockShortages } from '../components/stock-shortages.tsx';
import { StockTransfers } from '../components/stock-transfers.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { loc, t, useLang, type Localized, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';

interface Part {
  partNo: string;
  name: Localized;
  unit: string;
  wearing: boolean;
  leadTimeDays: number;
  suppliers: { id: string; name: string }[];
  levels: { storeId: string; min: number; max: number }[];
}
interface Store {
  id: string;
  kind: string;
  name: Localized;
}
interface Balance {
  partNo: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
  inTransit: number;
}
interface Proposal {
  partNo: string;
  storeId: string;
  available: number;
  onOrder: number;
  inTransit: number;
  proposedQty: number;
  contract: null | { id: number; number: string; supplierName: string; unitPriceCents: number };
  path: 'order' | 'transfer' | 'shortage';
}
interface Order {
  id: number;
  number: string;
  supplierName: string;
  storeId: string;
  status: string;
  expectedAt: number;
  lines: { partNo: string; qty: number; received: number }[];
}
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

const TABS = ['parts', 'stores', 'transfers', 'orders', 'shortages', 'counts'] as const;
type Tab = (typeof TABS)[number];

export function StockView() {
  useLang();
  const [tab, setTab] = useState<Tab>('stores');
  const edit = me().role === 'admin' || me().role === 'supply';
  // who marks a shortage task (缺件) done: the duty desk, supply chain and admins (as who raises one)
  const reserve = edit || me().role === 'dispatcher';
  return (
    <div class="view stock" data-testid="stock-view">
      <h2>{t('stock.title')}</h2>
      <nav class="tabs">
        {TABS.map((k) => (
          <button key={k} type="button" class={tab === k ? 'active' : ''} onClick={() => setTab(k)}>
            {t(`stock.tab.${k}` as MessageKey)}
          </button>
        ))}
      </nav>
      {tab === 'parts' && <Parts />}
      {tab === 'stores' && <StoreStock />}
      {tab === 'transfers' && <StockTransfers edit={edit} />}
      {tab === 'orders' && <Orders edit={edit} />}
      {tab === 'shortages' && <StockShortages canComplete={reserve} />}
      {tab === 'counts' && <Counts edit={edit} />}
    </div>
  );
}

function Parts() {
  const parts = useLoad(() => api.get<{ parts: Part[] }>('/api/stock/parts'), []);
  return (
    <>
      <ErrorBox error={parts.error} />
      <DataTable
        rows={parts.data?.parts ?? []}
        rowKey={(p) => p.partNo}
        columns={[
          { label: t('stock.partNo'), cell: (p) => p.partNo },
          { label: t('stock.name'), cell: (p) => loc(p.name) },
          { label: t('stock.unit'), cell: (p) => p.unit },
          { label: t('stock.wearing'), cell: (p) => (p.wearing ? '✓' : '') },
          { label: t('stock.leadTime'), cell: (p) => p.leadTimeDays },
          { label: t('stock.suppliers'), cell: (p) => p.suppliers.map((s) => s.name).join(', ') },
          { label: t('stock.levels'), cell: (p) => p.levels.map((l) => `${l.storeId} ${l.min}/${l.max}`).join(', ') },
        ]}
      />
    </>
  );
}

function StoreStock() {
  const [store, setStore] = useState('');
  const stores = useLoad(() => api.get<{ stores: Store[] }>('/api/stock/stores'), []);
  const balances = useLoad(() => api.get<{ balances: Balance[] }>('/api/stock/balances', { storeId: store }), [store]);
  return (
    <>
      <label>
        {t('stock.store')}{' '}
        <select value={store} onChange={(e) => setStore(e.currentTarget.value)}>
          <option value="">{t('stock.allStores')}</option>
          {(stores.data?.stores ?? []).map((s) => (
            <option key={s.id} value={s.id}>
              {s.id} · {loc(s.name)}
            </option>
          ))}
        </select>
      </label>
      <ErrorBox error={balances.error} />
      <DataTable
        rows={balances.data?.balances ?? []}
        rowKey={(b) => `${b.partNo} ${b.storeId}`}
        columns={[
          { label: t('stock.partNo'), cell: (b) => b.partNo },
          { label: t('stock.store'), cell: (b) => b.storeId },
          { label: t('stock.onHand'), cell: (b) => b.onHand },
          { label: t('stock.reserved'), cell: (b) => b.reserved },
          { label: t('stock.available'), cell: (b) => b.available },
          { label: t('stock.inTransit'), cell: (b) => b.inTransit || '' },
        ]}
      />
    </>
  );
}

function Orders({ edit }: { edit: boolean }) {
  const proposals = useLoad(() => api.get<{ proposals: Proposal[] }>('/api/stock/replenishment'), []);
  const orders = useLoad(() => api.get<{ orders: Order[] }>('/api/stock/purchase-orders'), []);
  const [err, setErr] = useState<string | null>(null);
  const act = (p: Promise<unknown>) =>
    p.then(
      () => {
        setErr(null);
        proposals.reload();
        orders.reload();
      },
      (e: unknown) => setErr(errorText(e)),
    );
  return (
    <>
      {err && <div class="error">{err}</div>}
      <h3>{t('stock.replenishment')}</h3>
      {proposals.data?.proposals.length === 0 && <p class="muted">{t('stock.noProposals')}</p>}
      <DataTable
        rows={proposals.data?.proposals ?? []}
        rowKey={(p) => `${p.partNo} ${p.storeId}`}
        columns={[
          { label: t('stock.partNo'), cell: (p) => p.partNo },
          { label: t('stock.store'), cell: (p) => p.storeId },
          { label: t('stock.available'), cell: (p) => p.available },
          { label: t('stock.onOrder'), cell: (p) => p.onOrder },
          { label: t('stock.inTransit'), cell: (p) => p.inTransit },
          { label: t('stock.proposedQty'), cell: (p) => p.proposedQty },
          {
            label: t('stock.contract'),
            cell: (p) =>
              p.contract
                ? `${p.contract.number} · ${p.contract.supplierName}`
                : t(`stock.path.${p.path}` as MessageKey),
          },
          {
            label: '',
            class: 'actions',
            cell: (p) =>
              edit &&
              p.contract && (
                <button
                  type="button"
                  onClick={() =>
                    void act(
                      api.post('/api/stock/purchase-orders', {
                        contractId: p.contract!.id,
                        storeId: p.storeId,
                        lines: [{ partNo: p.partNo, qty: p.proposedQty }],
                      }),
                    )
                  }
                >
                  {t('stock.placeOrder')}
                </button>
              ),
          },
        ]}
      />
      <h3>{t('stock.orders')}</h3>
      <DataTable
        rows={orders.data?.orders ?? []}
        rowKey={(o) => o.id}
        columns={[
          { label: t('stock.orderNo'), cell: (o) => o.number },
          { label: t('stock.supplier'), cell: (o) => o.supplierName },
          { label: t('stock.store'), cell: (o) => o.storeId },
          { label: t('stock.status'), cell: (o) => o.status },
          { label: t('stock.expected'), cell: (o) => dateTime(o.expectedAt) },
          { label: t('stock.lines'), cell: (o) => o.lines.map((l) => `${l.partNo} ${l.received}/${l.qty}`).join(', ') },
          {
            label: '',
            class: 'actions',
            cell: (o) =>
              edit &&
              o.status !== 'received' && (
                <button
                  type="button"
                  onClick={() =>
                    void act(
                      api.post(`/api/stock/purchase-orders/${o.id}/receipts`, {
                        lines: o.lines
                          .filter((l) => l.qty > l.received)
                          .map((l) => ({ partNo: l.partNo, qty: l.qty - l.received })),
                      }),
                    )
                  }
                >
                  {t('stock.receiveAll')}
                </button>
              ),
          },
        ]}
      />
    </>
  );
}

function Counts({ edit }: { edit: boolean }) {
  const stores = useLoad(() => api.get<{ stores: Store[] }>('/api/stock/stores'), []);
  const counts = useLoad(() => api.get<{ counts: Count[] }>('/api/stock/counts'), []);
  const [store, setStore] = useState('');
  const [entries, setEntries] = useState<Record<string, { counted: string; reason: string }>>({});
  const [err, setErr] = useState<string | null>(null);
  const act = (p: Promise<unknown>) =>
    p.then(
      () => {
        setErr(null);
        counts.reload();
      },
      (e: unknown) => setErr(errorText(e)),
    );
  const open = counts.data?.counts.find((c) => c.status === 'open');
  return (
    <>
      {err && <div class="error">{err}</div>}
      {edit && (
        <div class="form-row">
          <select value={store} onChange={(e) => setStore(e.currentTarget.value)}>
            <option value="">—</option>
            {(stores.data?.stores ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.id} · {loc(s.name)}
              </option>
            ))}
          </select>
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
