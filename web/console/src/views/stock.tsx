/**
 * Spare parts (备品备件): the stock per store (from the ledger), the parts catalogue with min/max
 * per store, the stores, goods in without an order and field returns, order contracts (订货合同),
 * purchase orders with the replenishment proposals, transfers between stores (in transit),
 * shortage tasks (缺件) and stock-taking (盘点) — each tab a component (components/stock-*.tsx).
 * Supply chain and admins edit; the duty desk marks shortage tasks done; the duty desk and
 * engineers book field returns (as the API lets them) and read the rest. Customers have no such page.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DataTable } from '../components/data-table.tsx';
import { StockContracts } from '../components/stock-contracts.tsx';
import { StockCounts } from '../components/stock-counts.tsx';
import { StockOrders } from '../components/stock-orders.tsx';
import { StockParts } from '../components/stock-parts.tsx';
import { StoreSelect, type StoreRef } from '../components/stock-pickers.tsx';
import { StockReceipts } from '../components/stock-receipts.tsx';
import { StockReturns } from '../components/stock-returns.tsx';
import { StockShortages } from '../components/stock-shortages.tsx';
import { StockStores } from '../components/stock-stores.tsx';
import { StockTransfers } from '../components/stock-transfers.tsx';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';

interface Balance {
  partNo: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
  inTransit: number;
}

const TABS = [
  'stores',
  'parts',
  'storeList',
  'receipts',
  'returns',
  'contracts',
  'orders',
  'transfers',
  'shortages',
  'counts',
] as const;
type Tab = (typeof TABS)[number];

export function StockView() {
  useLang();
  const [tab, setTab] = useState<Tab>('stores');
  // supply chain and admins edit the stock (web/routes/stock.ts EDIT)
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
      {tab === 'stores' && <StoreStock />}
      {tab === 'parts' && <StockParts edit={edit} />}
      {tab === 'storeList' && <StockStores edit={edit} />}
      {tab === 'receipts' && <StockReceipts edit={edit} />}
      {tab === 'returns' && <StockReturns />}
      {tab === 'contracts' && <StockContracts edit={edit} />}
      {tab === 'orders' && <StockOrders edit={edit} />}
      {tab === 'transfers' && <StockTransfers edit={edit} />}
      {tab === 'shortages' && <StockShortages canComplete={reserve} />}
      {tab === 'counts' && <StockCounts edit={edit} />}
    </div>
  );
}

function StoreStock() {
  const [store, setStore] = useState('');
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const balances = useLoad(() => api.get<{ balances: Balance[] }>('/api/stock/balances', { storeId: store }), [store]);
  return (
    <>
      <label>
        {t('stock.store')}{' '}
        <StoreSelect
          stores={stores.data?.stores ?? []}
          name="store"
          value={store}
          set={setStore}
          empty={t('stock.allStores')}
        />
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
