/**
 * Purchase orders on the stock page: the replenishment proposals (every part and store below its
 * min) with an order placed from one at a click against the cheapest valid contract, an order
 * placed by hand against a contract, and goods in against an order. Supply chain and admins act;
 * the duty desk and engineers read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { CardForm, Field, useAct, type Act } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { StoreSelect, type StoreRef } from './stock-pickers.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';

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
interface ContractRef {
  id: number;
  number: string;
  supplierName: string;
  items: { partNo: string }[];
}

export function StockOrders({ edit }: { edit: boolean }) {
  const proposals = useLoad(() => api.get<{ proposals: Proposal[] }>('/api/stock/replenishment'), []);
  const orders = useLoad(() => api.get<{ orders: Order[] }>('/api/stock/purchase-orders'), []);
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const contracts = useLoad(() => api.get<{ contracts: ContractRef[] }>('/api/stock/contracts'), []);
  const { err, act } = useAct(() => (proposals.reload(), orders.reload()));
  const [receiving, setReceiving] = useState<number | null>(null);
  const receipt = orders.data?.orders.find((o) => o.id === receiving && o.status !== 'received');
  return (
    <div data-testid="stock-orders">
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
          { label: t('stock.status'), cell: (o) => t(`stock.order.status.${o.status}` as MessageKey) },
          { label: t('stock.expected'), cell: (o) => dateTime(o.expectedAt) },
          { label: t('stock.lines'), cell: (o) => o.lines.map((l) => `${l.partNo} ${l.received}/${l.qty}`).join(', ') },
          {
            label: '',
            class: 'actions',
            cell: (o) =>
              edit &&
              o.status !== 'received' && (
                <>
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
                  <button type="button" onClick={() => setReceiving(receiving === o.id ? null : o.id)}>
                    {t('stock.order.receivePart')}
                  </button>
                </>
              ),
          },
        ]}
      />
      {edit && receipt && (
        <OrderReceipt
          key={receipt.id}
          order={receipt}
          act={(p) => act(p).then((ok) => (ok && setReceiving(null), ok))}
        />
      )}
      {edit && <NewOrder stores={stores.data?.stores ?? []} contracts={contracts.data?.contracts ?? []} act={act} />}
    </div>
  );
}

/** A purchase order by hand: a contract, the store it goes to, one line per part of the contract. */
function NewOrder({ stores, contracts, act }: { stores: StoreRef[]; contracts: ContractRef[]; act: Act }) {
  const [contractId, setContractId] = useState('');
  const [storeId, setStoreId] = useState('');
  const [qty, setQty] = useState<Record<string, string>>({});
  const c = contracts.find((x) => String(x.id) === contractId);
  const lines = (c?.items ?? [])
    .map((i) => ({ partNo: i.partNo, qty: Number(qty[i.partNo] ?? 0) }))
    .filter((l) => Number.isInteger(l.qty) && l.qty > 0);
  return (
    <CardForm
      testid="order-form"
      title={t('stock.order.new')}
      submit={t('stock.placeOrder')}
      disabled={!c || !storeId || lines.length === 0}
      onSubmit={() =>
        act(api.post('/api/stock/purchase-orders', { contractId: c!.id, storeId, lines })).then(
          (ok) => ok && setQty({}),
        )
      }
    >
      <div class="form-row">
        <label>
          {t('stock.contract')}{' '}
          <select name="order-contract" value={contractId} onChange={(e) => setContractId(e.currentTarget.value)}>
            <option value="">—</option>
            {contracts.map((x) => (
              <option key={x.id} value={String(x.id)}>
                {x.number} · {x.supplierName}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('stock.store')} <StoreSelect stores={stores} name="order-store" value={storeId} set={setStoreId} />
        </label>
      </div>
      <div class="form-row">
        {(c?.items ?? []).map((i) => (
          <Field
            key={i.partNo}
            name={`order-qty-${i.partNo}`}
            type="number"
            min={0}
            label={i.partNo}
            value={qty[i.partNo] ?? ''}
            set={(v) => setQty({ ...qty, [i.partNo]: v })}
          />
        ))}
      </div>
    </CardForm>
  );
}

/** Goods in against a purchase order: per line what arrived (at most what is outstanding). */
function OrderReceipt({ order, act }: { order: Order; act: Act }) {
  const open = order.lines.filter((l) => l.qty > l.received);
  const [got, setGot] = useState<Record<string, string>>(
    Object.fromEntries(open.map((l) => [l.partNo, String(l.qty - l.received)])),
  );
  const lines = open
    .map((l) => ({ partNo: l.partNo, qty: Number(got[l.partNo] ?? 0) }))
    .filter((l) => Number.isInteger(l.qty) && l.qty > 0);
  return (
    <CardForm
      testid="order-receipt"
      title={`${t('stock.order.receivePart')} ${order.number} · ${order.storeId}`}
      submit={t('stock.receipt.book')}
      disabled={lines.length === 0}
      onSubmit={() => act(api.post(`/api/stock/purchase-orders/${order.id}/receipts`, { lines }))}
    >
      <div class="form-row">
        {open.map((l) => (
          <Field
            key={l.partNo}
            name={`got-${l.partNo}`}
            type="number"
            min={0}
            max={l.qty - l.received}
            label={`${l.partNo} (${l.received}/${l.qty})`}
            value={got[l.partNo] ?? ''}
            set={(v) => setGot({ ...got, [l.partNo]: v })}
          />
        ))}
      </div>
    </CardForm>
  );
}
