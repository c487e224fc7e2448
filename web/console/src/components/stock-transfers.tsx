/**
 * Transfers between stores (调拨) on the stock page: create one (from, to, lines), ship it with
 * carrier, tracking number and ETA (the parts are then in transit, on hand nowhere), receive what
 * arrived (partial receipts allowed) and book what did not with a reason; a draft may be cancelled
 * with a reason (a shipped transfer cannot). Supply chain and admins act; the duty desk and engineers read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { CardForm, Field, useAct, type Act } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { DateTimeInput } from './date-input.tsx';
import { PartSelect, StoreSelect, type PartRef, type StoreRef } from './stock-pickers.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { loc, t, type Localized, type MessageKey } from '../i18n.ts';
interface Line {
  partNo: string;
  name: Localized;
  qty: number;
  shipped: number;
  received: number;
  lost: number;
  outstanding: number;
}
interface Transfer {
  id: number;
  number: string;
  from: string;
  to: string;
  status: 'draft' | 'in_transit' | 'partially_received' | 'received' | 'cancelled';
  reason: string | null;
  carrier: string | null;
  trackingNo: string | null;
  etaAt: number | null;
  lines: Line[];
  discrepancy: number;
}

export function StockTransfers({ edit }: { edit: boolean }) {
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const parts = useLoad(() => api.get<{ parts: PartRef[] }>('/api/stock/parts'), []);
  const transfers = useLoad(() => api.get<{ transfers: Transfer[] }>('/api/stock/transfers'), []);
  const [open, setOpen] = useState<number | null>(null);
  const [cancelling, setCancelling] = useState<number | null>(null);
  const { err, act } = useAct(transfers.reload);
  const list = transfers.data?.transfers ?? [];
  const current = list.find((x) => x.id === open);
  const cancel = list.find((x) => x.id === cancelling && x.status === 'draft');
  return (
    <div data-testid="stock-transfers">
      {err && <div class="error">{err}</div>}
      <ErrorBox error={transfers.error} />
      {edit && <NewTransfer stores={stores.data?.stores ?? []} parts={parts.data?.parts ?? []} act={act} />}
      <DataTable
        rows={list}
        rowKey={(x) => x.id}
        columns={[
          { label: t('stock.transfer.number'), cell: (x) => x.number },
          { label: t('stock.transfer.route'), cell: (x) => `${x.from} → ${x.to}` },
          { label: t('stock.status'), cell: (x) => t(`stock.transfer.status.${x.status}` as MessageKey) },
          {
            label: t('stock.lines'),
            cell: (x) => x.lines.map((l) => `${l.partNo} ${l.received}/${l.qty}`).join(', '),
          },
          {
            label: t('stock.transfer.tracking'),
            cell: (x) => (x.carrier ? `${x.carrier} ${x.trackingNo ?? ''}` : ''),
          },
          { label: t('stock.transfer.eta'), cell: (x) => (x.etaAt ? dateTime(x.etaAt) : '') },
          {
            label: t('stock.transfer.discrepancy'),
            cell: (x) => (x.discrepancy > 0 ? <strong class="warn">{x.discrepancy}</strong> : ''),
          },
          {
            label: '',
            class: 'actions',
            cell: (x) =>
              edit &&
              x.status !== 'received' &&
              x.status !== 'cancelled' && (
                <>
                  <button type="button" onClick={() => (setCancelling(null), setOpen(open === x.id ? null : x.id))}>
                    {t(x.status === 'draft' ? 'stock.transfer.ship' : 'stock.transfer.receive')}
                  </button>
                  {x.status === 'draft' && (
                    <button
                      type="button"
                      data-testid="cancel-transfer"
                      onClick={() => (setOpen(null), setCancelling(cancelling === x.id ? null : x.id))}
                    >
                      {t('stock.transfer.cancel')}
                    </button>
                  )}
                </>
              ),
          },
        ]}
      />
      {edit && cancel && (
        <CancelForm key={cancel.id} tr={cancel} act={(p) => act(p).then((ok) => (ok && setCancelling(null), ok))} />
      )}
      {edit && current && current.status === 'draft' && (
        <ShipForm key={current.id} tr={current} act={(p) => act(p).then((ok) => (ok && setOpen(null), ok))} />
      )}
      {edit && current && current.status !== 'draft' && current.status !== 'received' && (
        <ReceiveForm key={current.id} tr={current} act={act} />
      )}
    </div>
  );
}

function NewTransfer({ stores, parts, act }: { stores: StoreRef[]; parts: PartRef[]; act: Act }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [part, setPart] = useState('');
  const [qty, setQty] = useState('1');
  const [reason, setReason] = useState('');
  const [lines, setLines] = useState<{ partNo: string; qty: number }[]>([]);
  return (
    <CardForm
      testid="new-transfer"
      title={t('stock.transfer.new')}
      submit={t('stock.transfer.create')}
      disabled={!from || !to || lines.length === 0}
      onSubmit={() =>
        act(api.post('/api/stock/transfers', { from, to, lines, reason: reason || null })).then(
          (ok) => ok && (setLines([]), setReason('')),
        )
      }
    >
      <div class="form-row">
        <label>
          {t('stock.transfer.from')} <StoreSelect stores={stores} name="from" value={from} set={setFrom} />
        </label>
        <label>
          {t('stock.transfer.to')} <StoreSelect stores={stores} name="to" value={to} set={setTo} />
        </label>
      </div>
      <div class="form-row">
        <PartSelect parts={parts} name="part" value={part} set={setPart} />
        <input type="number" name="qty" min={1} value={qty} onInput={(e) => setQty(e.currentTarget.value)} />
        <button
          type="button"
          disabled={!part || !(Number(qty) >= 1)}
          onClick={() => setLines([...lines.filter((l) => l.partNo !== part), { partNo: part, qty: Number(qty) }])}
        >
          {t('stock.transfer.addLine')}
        </button>
        <span>{lines.map((l) => `${l.partNo} × ${l.qty}`).join(', ')}</span>
      </div>
      <div class="form-row">
        <input
          name="reason"
          maxLength={500}
          placeholder={t('stock.reason')}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </div>
    </CardForm>
  );
}

function ShipForm({ tr, act }: { tr: Transfer; act: Act }) {
  const [carrier, setCarrier] = useState('');
  const [tracking, setTracking] = useState('');
  const [eta, setEta] = useState('');
  return (
    <CardForm
      testid="ship-transfer"
      title={`${t('stock.transfer.ship')} ${tr.number}`}
      submit={t('stock.transfer.ship')}
      disabled={!carrier || !tracking}
      hint={t('stock.transfer.etaHint')}
      onSubmit={() =>
        act(
          api.post(`/api/stock/transfers/${tr.id}/ship`, {
            carrier,
            trackingNo: tracking,
            etaAt: eta ? new Date(eta).getTime() : null,
          }),
        )
      }
    >
      <div class="form-row">
        <Field name="carrier" label={t('stock.ticket.carrier')} maxLength={100} value={carrier} set={setCarrier} />
        <Field name="tracking" label={t('stock.ticket.tracking')} maxLength={64} value={tracking} set={setTracking} />
        <label>
          {t('stock.transfer.eta')}{' '}
          <DateTimeInput kind="datetime" name="eta" value={eta} onInput={(e) => setEta(e.currentTarget.value)} />
        </label>
      </div>
    </CardForm>
  );
}

function CancelForm({ tr, act }: { tr: Transfer; act: Act }) {
  const [reason, setReason] = useState('');
  return (
    <CardForm
      testid="cancel-transfer-form"
      title={`${t('stock.transfer.cancel')} ${tr.number} · ${tr.from} → ${tr.to}`}
      submit={t('stock.transfer.cancelConfirm')}
      disabled={!reason.trim()}
      hint={t('stock.transfer.cancelHint')}
      onSubmit={() => act(api.post(`/api/stock/transfers/${tr.id}/cancel`, { reason: reason.trim() }))}
    >
      <div class="form-row">
        <Field name="cancel-reason" label={t('stock.reason')} maxLength={500} value={reason} set={setReason} />
      </div>
    </CardForm>
  );
}

function ReceiveForm({ tr, act }: { tr: Transfer; act: Act }) {
  const pending = tr.lines.filter((l) => l.outstanding > 0);
  const [got, setGot] = useState<Record<string, string>>(
    Object.fromEntries(pending.map((l) => [l.partNo, String(l.outstanding)])),
  );
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const receipt = pending.map((l) => ({ partNo: l.partNo, qty: Number(got[l.partNo] ?? 0) })).filter((l) => l.qty > 0);
  const missing = pending
    .filter((l) => (reasons[l.partNo] ?? '').trim())
    .map((l) => ({ partNo: l.partNo, qty: l.outstanding, reason: reasons[l.partNo]!.trim() }));
  return (
    <CardForm
      testid="receive-transfer"
      title={`${t('stock.transfer.receive')} ${tr.number} · ${tr.from} → ${tr.to}`}
      submit={t('stock.transfer.receive')}
      disabled={receipt.length === 0}
      onSubmit={() => act(api.post(`/api/stock/transfers/${tr.id}/receipts`, { lines: receipt }))}
      extra={
        tr.status === 'partially_received' && (
          <button
            type="button"
            disabled={missing.length === 0}
            onClick={() => void act(api.post(`/api/stock/transfers/${tr.id}/discrepancies`, { lines: missing }))}
          >
            {t('stock.transfer.bookLoss')}
          </button>
        )
      }
    >
      <DataTable
        rows={pending}
        rowKey={(l) => l.partNo}
        columns={[
          { label: t('stock.partNo'), cell: (l) => `${l.partNo} · ${loc(l.name)}` },
          { label: t('stock.transfer.outstanding'), cell: (l) => l.outstanding },
          {
            label: t('stock.transfer.arrived'),
            cell: (l) => (
              <input
                type="number"
                name={`got-${l.partNo}`}
                min={0}
                max={l.outstanding}
                value={got[l.partNo] ?? ''}
                onInput={(e) => setGot({ ...got, [l.partNo]: e.currentTarget.value })}
              />
            ),
          },
          {
            label: t('stock.transfer.lossReason'),
            cell: (l) => (
              <input
                name={`reason-${l.partNo}`}
                maxLength={500}
                disabled={tr.status !== 'partially_received'}
                value={reasons[l.partNo] ?? ''}
                onInput={(e) => setReasons({ ...reasons, [l.partNo]: e.currentTarget.value })}
              />
            ),
          },
        ]}
      />
    </CardForm>
  );
}
