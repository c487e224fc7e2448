/**
 * Field returns on the stock page: unused parts back from a ticket's field work into a store (the
 * store they came from, or another). Pick the ticket, one of its reservations with parts in the
 * field, how many and where to. Everyone the stock routes let return parts books them (supply
 * chain, the duty desk, engineers, admins). docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { CardForm, Field, useAct } from './card-form.tsx';
import { StoreSelect, type StoreRef } from './stock-pickers.tsx';
import { useLoad } from '../hooks.ts';
import { t } from '../i18n.ts';

interface Reservation {
  id: number;
  partNo: string;
  storeId: string;
  inField: number;
}

export function StockReturns() {
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const [ticket, setTicket] = useState('');
  const id = /^[1-9][0-9]*$/.test(ticket.trim()) ? Number(ticket.trim()) : null;
  const stock = useLoad(
    () =>
      id === null
        ? Promise.resolve({ reservations: [] as Reservation[] })
        : api.get<{ reservations: Reservation[] }>(`/api/tickets/${id}/stock`),
    [id],
  );
  const { err, act } = useAct(stock.reload);
  const [resId, setResId] = useState('');
  const [qty, setQty] = useState('1');
  const [storeId, setStoreId] = useState('');
  const inField = (stock.data?.reservations ?? []).filter((r) => r.inField > 0);
  const r = inField.find((x) => String(x.id) === resId);
  return (
    <div data-testid="stock-returns">
      {err && <div class="error">{err}</div>}
      {id !== null && <ErrorBox error={stock.error} />}
      <CardForm
        testid="return-form"
        title={t('stock.return.title')}
        submit={t('stock.return.book')}
        disabled={id === null || !r || !(Number(qty) >= 1 && Number(qty) <= r.inField)}
        hint={t('stock.return.hint')}
        onSubmit={() =>
          act(
            api.post(`/api/tickets/${id}/returns`, {
              reservationId: r!.id,
              qty: Number(qty),
              ...(storeId ? { storeId } : {}),
            }),
          ).then((ok) => ok && setResId(''))
        }
      >
        <div class="form-row">
          <Field name="return-ticket" label={t('stock.shortage.ticket')} value={ticket} set={setTicket} />
          <label>
            {t('stock.return.reservation')}{' '}
            <select name="return-reservation" value={resId} onChange={(e) => setResId(e.currentTarget.value)}>
              <option value="">—</option>
              {inField.map((x) => (
                <option key={x.id} value={String(x.id)}>
                  {t('stock.return.option', { partNo: x.partNo, store: x.storeId, n: x.inField })}
                </option>
              ))}
            </select>
          </label>
          <Field
            name="return-qty"
            type="number"
            min={1}
            max={r?.inField}
            label={t('stock.qty')}
            value={qty}
            set={setQty}
          />
          <label>
            {t('stock.return.into')}{' '}
            <StoreSelect stores={stores.data?.stores ?? []} name="return-store" value={storeId} set={setStoreId} />
          </label>
        </div>
        {id !== null && stock.data && inField.length === 0 && <p class="muted">{t('stock.return.none')}</p>}
      </CardForm>
    </div>
  );
}
