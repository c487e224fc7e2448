/**
 * Goods in without an order on the stock page (opening stock, parts found), each with a reason,
 * and the latest receipts and field returns from the ledger. Supply chain and admins book
 * receipts; the duty desk and engineers read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { CardForm, Field, useAct } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { PartSelect, StoreSelect, type PartRef, type StoreRef } from './stock-pickers.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';

interface Movement {
  id: number;
  kind: string;
  partNo: string;
  storeId: string;
  qty: number;
  ticketId: number | null;
  reason: string | null;
  actor: string;
  at: number;
}

export function StockReceipts({ edit }: { edit: boolean }) {
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const parts = useLoad(() => api.get<{ parts: PartRef[] }>('/api/stock/parts'), []);
  const moves = useLoad(() => api.get<{ movements: Movement[] }>('/api/stock/movements', { limit: '500' }), []);
  const { err, act } = useAct(moves.reload);
  const [partNo, setPartNo] = useState('');
  const [storeId, setStoreId] = useState('');
  const [qty, setQty] = useState('1');
  const [reason, setReason] = useState('');
  const goodsIn = (moves.data?.movements ?? []).filter((m) => m.kind === 'receipt' || m.kind === 'return');
  return (
    <div data-testid="stock-receipts">
      {err && <div class="error">{err}</div>}
      <ErrorBox error={moves.error} />
      {edit && (
        <CardForm
          testid="receipt-form"
          title={t('stock.receipt.title')}
          submit={t('stock.receipt.book')}
          disabled={!partNo || !storeId || !(Number(qty) >= 1) || !reason.trim()}
          hint={t('stock.receipt.hint')}
          onSubmit={() =>
            act(api.post('/api/stock/receipts', { partNo, storeId, qty: Number(qty), reason: reason.trim() })).then(
              (ok) => ok && setReason(''),
            )
          }
        >
          <div class="form-row">
            <PartSelect parts={parts.data?.parts ?? []} name="receipt-part" value={partNo} set={setPartNo} />
            <StoreSelect stores={stores.data?.stores ?? []} name="receipt-store" value={storeId} set={setStoreId} />
            <Field name="receipt-qty" type="number" min={1} label={t('stock.qty')} value={qty} set={setQty} />
            <Field name="receipt-reason" label={t('stock.reason')} maxLength={500} value={reason} set={setReason} />
          </div>
        </CardForm>
      )}
      <h3>{t('stock.receipt.latest')}</h3>
      <DataTable
        rows={goodsIn}
        rowKey={(m) => m.id}
        columns={[
          { label: '', cell: (m) => dateTime(m.at) },
          { label: t('stock.movement.kind'), cell: (m) => t(`stock.movement.${m.kind}` as MessageKey) },
          { label: t('stock.partNo'), cell: (m) => m.partNo },
          { label: t('stock.store'), cell: (m) => m.storeId },
          { label: t('stock.qty'), cell: (m) => m.qty },
          { label: t('stock.reason'), cell: (m) => (m.ticketId ? `#${m.ticketId} ` : '') + (m.reason ?? '') },
          { label: t('stock.movement.by'), cell: (m) => m.actor },
        ]}
      />
    </div>
  );
}
