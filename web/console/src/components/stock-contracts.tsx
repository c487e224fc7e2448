/**
 * Order contracts (订货合同) on the stock page: supplier, currency, validity and per part the unit
 * price and lead time — what purchase orders are placed against. Supply chain and admins add and
 * change them (orders placed keep their prices); the duty desk and engineers read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { CardForm, Field, useAct, type Act } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { DateTimeInput } from './date-input.tsx';
import { PartSelect, SupplierPick, type PartRef } from './stock-pickers.tsx';
import { toLocalInput } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t } from '../i18n.ts';

interface Item {
  partNo: string;
  unitPriceCents: number;
  leadTimeDays: number;
}
interface Contract {
  id: number;
  number: string;
  supplierId: string;
  supplierName: string;
  currency: string;
  validFrom: number;
  validTo: number;
  items: Item[];
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;
/** epoch ms → the day, local time (the date field's value and the list's). */
const day = (ms: number) => toLocalInput(ms).slice(0, 10);

export function StockContracts({ edit }: { edit: boolean }) {
  const contracts = useLoad(() => api.get<{ contracts: Contract[] }>('/api/stock/contracts'), []);
  const parts = useLoad(() => api.get<{ parts: PartRef[] }>('/api/stock/parts'), []);
  const [editing, setEditing] = useState<number | null>(null);
  const { err, act } = useAct(contracts.reload);
  const list = contracts.data?.contracts ?? [];
  const current = list.find((c) => c.id === editing);
  return (
    <div data-testid="stock-contracts">
      {err && <div class="error">{err}</div>}
      <ErrorBox error={contracts.error} />
      {contracts.data && list.length === 0 && <p class="muted">{t('stock.contracts.none')}</p>}
      <DataTable
        rows={list}
        rowKey={(c) => c.id}
        columns={[
          { label: t('stock.contracts.number'), cell: (c) => c.number },
          { label: t('stock.supplier'), cell: (c) => `${c.supplierName} (${c.supplierId})` },
          { label: t('stock.contracts.valid'), cell: (c) => `${day(c.validFrom)} – ${day(c.validTo)}` },
          {
            label: t('stock.contracts.items'),
            cell: (c) =>
              c.items.map((i) => `${i.partNo} ${money(i.unitPriceCents, c.currency)} / ${i.leadTimeDays} d`).join('; '),
          },
          {
            label: '',
            class: 'actions',
            cell: (c) =>
              edit && (
                <button
                  type="button"
                  data-testid="edit-contract"
                  onClick={() => setEditing(editing === c.id ? null : c.id)}
                >
                  {t('stock.edit')}
                </button>
              ),
          },
        ]}
      />
      {edit && (
        <ContractForm
          key={current?.id ?? 'new'}
          contract={current}
          parts={parts.data?.parts ?? []}
          act={(p) => act(p).then((ok) => (ok && setEditing(null), ok))}
        />
      )}
    </div>
  );
}

/** Adds an order contract, or changes `contract`. */
function ContractForm({ contract, parts, act }: { contract: Contract | undefined; parts: PartRef[]; act: Act }) {
  const [number, setNumber] = useState(contract?.number ?? '');
  const [supplierId, setSupplierId] = useState(contract?.supplierId ?? '');
  const [supplierName, setSupplierName] = useState(contract?.supplierName ?? '');
  const [currency, setCurrency] = useState(contract?.currency ?? 'CNY');
  const [from, setFrom] = useState(contract ? day(contract.validFrom) : '');
  const [to, setTo] = useState(contract ? day(contract.validTo) : '');
  const [items, setItems] = useState<Item[]>(contract?.items ?? []);
  const [part, setPart] = useState('');
  const [price, setPrice] = useState('');
  const [lead, setLead] = useState('');
  const validFrom = from ? new Date(`${from}T00:00`).getTime() : NaN;
  const validTo = to ? new Date(`${to}T23:59:59`).getTime() : NaN;
  const body = {
    number: number.trim(),
    supplierId: supplierId.trim(),
    supplierName: supplierName.trim(),
    currency: currency.trim().toUpperCase(),
    validFrom,
    validTo,
    items,
  };
  const ok =
    body.number &&
    body.supplierId &&
    body.supplierName &&
    /^[A-Z]{3}$/.test(body.currency) &&
    validTo > validFrom &&
    items.length > 0;
  const addItem = () =>
    setItems([
      ...items.filter((i) => i.partNo !== part),
      { partNo: part, unitPriceCents: Math.round(Number(price) * 100), leadTimeDays: Number(lead) },
    ]);
  return (
    <CardForm
      testid="contract-form"
      title={contract ? `${t('stock.contracts.change')} ${contract.number}` : t('stock.contracts.add')}
      submit={contract ? t('stock.save') : t('stock.contracts.add')}
      disabled={!ok}
      onSubmit={() =>
        act(
          contract ? api.put(`/api/stock/contracts/${contract.id}`, body) : api.post('/api/stock/contracts', body),
        ).then((done) => done && !contract && (setNumber(''), setItems([])))
      }
    >
      <div class="form-row">
        <Field name="number" label={t('stock.contracts.number')} maxLength={64} value={number} set={setNumber} />
        <Field
          name="supplier-id"
          label={t('stock.contracts.supplierId')}
          maxLength={64}
          value={supplierId}
          set={setSupplierId}
        />
        <Field
          name="supplier-name"
          label={t('stock.supplier')}
          maxLength={200}
          value={supplierName}
          set={setSupplierName}
        />
        <Field name="currency" label={t('stock.contracts.currency')} maxLength={3} value={currency} set={setCurrency} />
        <SupplierPick
          name="supplier-pick"
          pick={(s) => {
            setSupplierId(s.id);
            setSupplierName(s.name);
          }}
        />
      </div>
      <div class="form-row">
        <label>
          {t('stock.contracts.validFrom')}{' '}
          <DateTimeInput kind="date" name="valid-from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          {t('stock.contracts.validTo')}{' '}
          <DateTimeInput kind="date" name="valid-to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
      </div>
      <div class="form-row">
        <PartSelect parts={parts} name="item-part" value={part} set={setPart} />
        <Field
          name="price"
          type="number"
          min={0}
          step="0.01"
          label={t('stock.contracts.unitPrice')}
          value={price}
          set={setPrice}
        />
        <Field
          name="item-lead"
          type="number"
          min={0}
          max={365}
          label={t('stock.leadTime')}
          value={lead}
          set={setLead}
        />
        <button type="button" disabled={!part || price === '' || lead === ''} onClick={addItem}>
          {t('stock.transfer.addLine')}
        </button>
      </div>
      {items.length > 0 && (
        <ul class="contract-items">
          {items.map((i) => (
            <li key={i.partNo}>
              {i.partNo} · {money(i.unitPriceCents, body.currency)} · {i.leadTimeDays} d{' '}
              <button type="button" onClick={() => setItems(items.filter((x) => x.partNo !== i.partNo))}>
                {t('stock.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </CardForm>
  );
}
