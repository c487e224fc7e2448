/**
 * The parts catalogue on the stock page: every part with its names (en/zh), unit, wearing flag,
 * the models and power-system modules it fits, suppliers, lead time and min/max per store.
 * Supply chain and admins add and change parts (the part number stays) and set a part's min/max at
 * a store (below min: a replenishment proposal); the duty desk and engineers read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { CardForm, Field, useAct, type Act } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { PartSelect, StoreSelect, SupplierPick, type StoreRef } from './stock-pickers.tsx';
import { useLoad } from '../hooks.ts';
import { loc, t, type Localized } from '../i18n.ts';

export interface Part {
  partNo: string;
  name: Localized;
  unit: string;
  wearing: boolean;
  machinable: boolean;
  fitsModels: string[];
  fitsModules: string[];
  leadTimeDays: number;
  suppliers: { id: string; name: string }[];
  levels: { storeId: string; min: number; max: number }[];
}

export function StockParts({ edit }: { edit: boolean }) {
  const parts = useLoad(() => api.get<{ parts: Part[] }>('/api/stock/parts'), []);
  const stores = useLoad(() => api.get<{ stores: StoreRef[] }>('/api/stock/stores'), []);
  const [editing, setEditing] = useState<string | null>(null);
  const { err, act } = useAct(parts.reload);
  const list = parts.data?.parts ?? [];
  const current = list.find((p) => p.partNo === editing);
  return (
    <div data-testid="stock-parts">
      {err && <div class="error">{err}</div>}
      <ErrorBox error={parts.error} />
      <DataTable
        rows={list}
        rowKey={(p) => p.partNo}
        columns={[
          { label: t('stock.partNo'), cell: (p) => p.partNo },
          { label: t('stock.name'), cell: (p) => loc(p.name) },
          { label: t('stock.unit'), cell: (p) => p.unit },
          { label: t('stock.wearing'), cell: (p) => (p.wearing ? '✓' : '') },
          { label: t('stock.part.fits'), cell: (p) => [...p.fitsModels, ...p.fitsModules].join(', ') },
          { label: t('stock.leadTime'), cell: (p) => p.leadTimeDays },
          { label: t('stock.suppliers'), cell: (p) => p.suppliers.map((s) => s.name).join(', ') },
          { label: t('stock.levels'), cell: (p) => p.levels.map((l) => `${l.storeId} ${l.min}/${l.max}`).join(', ') },
          {
            label: '',
            class: 'actions',
            cell: (p) =>
              edit && (
                <button
                  type="button"
                  data-testid="edit-part"
                  onClick={() => setEditing(editing === p.partNo ? null : p.partNo)}
                >
                  {t('stock.edit')}
                </button>
              ),
          },
        ]}
      />
      {edit && (
        <>
          <PartForm
            key={current?.partNo ?? 'new'}
            part={current}
            act={(p) => act(p).then((ok) => (ok && setEditing(null), ok))}
          />
          <LevelForm parts={list} stores={stores.data?.stores ?? []} act={act} />
        </>
      )}
    </div>
  );
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Suppliers typed as `id: name, id: name`. */
const suppliersOf = (s: string) =>
  list(s).map((x) => {
    const [id = '', ...name] = x.split(':');
    return { id: id.trim(), name: name.join(':').trim() || id.trim() };
  });

/** Adds a part, or changes `part` (its number stays). */
function PartForm({ part, act }: { part: Part | undefined; act: Act }) {
  const [partNo, setPartNo] = useState(part?.partNo ?? '');
  const [en, setEn] = useState(part?.name.en ?? '');
  const [zh, setZh] = useState(part?.name.zh ?? '');
  const [unit, setUnit] = useState(part?.unit ?? 'pc');
  const [wearing, setWearing] = useState(part?.wearing ?? false);
  const [machinable, setMachinable] = useState(part?.machinable ?? false);
  const [models, setModels] = useState(part?.fitsModels.join(', ') ?? '');
  const [modules, setModules] = useState(part?.fitsModules.join(', ') ?? '');
  const [lead, setLead] = useState(String(part?.leadTimeDays ?? ''));
  const [suppliers, setSuppliers] = useState(part?.suppliers.map((s) => `${s.id}: ${s.name}`).join(', ') ?? '');
  const body = {
    name: { en: en.trim(), zh: zh.trim() },
    unit: unit.trim(),
    wearing,
    machinable,
    fitsModels: list(models),
    fitsModules: list(modules),
    leadTimeDays: Number(lead),
    suppliers: suppliersOf(suppliers),
  };
  const ok = (part || partNo.trim()) && body.name.en && body.name.zh && body.unit && lead !== '' && Number(lead) >= 0;
  return (
    <CardForm
      testid="part-form"
      title={part ? `${t('stock.part.change')} ${part.partNo}` : t('stock.part.add')}
      submit={part ? t('stock.save') : t('stock.part.add')}
      disabled={!ok}
      hint={t('stock.part.hint')}
      onSubmit={() =>
        act(
          part
            ? api.put(`/api/stock/parts/${encodeURIComponent(part.partNo)}`, body)
            : api.post('/api/stock/parts', { ...body, partNo: partNo.trim() }),
        ).then((done) => done && !part && (setPartNo(''), setEn(''), setZh('')))
      }
    >
      <div class="form-row">
        {!part && <Field name="partNo" label={t('stock.partNo')} maxLength={64} value={partNo} set={setPartNo} />}
        <Field name="name-en" label={t('stock.nameEn')} maxLength={200} value={en} set={setEn} />
        <Field name="name-zh" label={t('stock.nameZh')} maxLength={200} value={zh} set={setZh} />
        <Field name="unit" label={t('stock.unit')} maxLength={16} value={unit} set={setUnit} />
        <Field name="lead" type="number" min={0} max={365} label={t('stock.leadTime')} value={lead} set={setLead} />
      </div>
      <div class="form-row">
        <label>
          <input
            name="wearing"
            type="checkbox"
            checked={wearing}
            onChange={(e) => setWearing(e.currentTarget.checked)}
          />{' '}
          {t('stock.wearing')}
        </label>
        <label>
          <input
            name="machinable"
            type="checkbox"
            checked={machinable}
            onChange={(e) => setMachinable(e.currentTarget.checked)}
          />{' '}
          {t('stock.part.machinable')}
        </label>
        <Field name="models" label={t('stock.part.models')} value={models} set={setModels} />
        <Field name="modules" label={t('stock.part.modules')} value={modules} set={setModules} />
        <Field name="suppliers" label={t('stock.part.suppliers')} value={suppliers} set={setSuppliers} />
        <SupplierPick
          name="supplier-pick"
          pick={(s) => {
            const current = suppliersOf(suppliers);
            if (!current.some((c) => c.id === s.id))
              setSuppliers([...current, s].map((c) => `${c.id}: ${c.name}`).join(', '));
          }}
        />
      </div>
    </CardForm>
  );
}

/** Sets a part's min/max at a store. */
function LevelForm({ parts, stores, act }: { parts: Part[]; stores: StoreRef[]; act: Act }) {
  const [partNo, setPartNo] = useState('');
  const [storeId, setStoreId] = useState('');
  const [min, setMin] = useState('');
  const [max, setMax] = useState('');
  const ok = partNo && storeId && min !== '' && max !== '' && Number(max) >= Number(min) && Number(min) >= 0;
  return (
    <CardForm
      testid="level-form"
      title={t('stock.level.title')}
      submit={t('stock.level.set')}
      disabled={!ok}
      hint={t('stock.level.hint')}
      onSubmit={() => act(api.put('/api/stock/levels', { partNo, storeId, min: Number(min), max: Number(max) }))}
    >
      <div class="form-row">
        <PartSelect parts={parts} name="level-part" value={partNo} set={setPartNo} />
        <StoreSelect stores={stores} name="level-store" value={storeId} set={setStoreId} />
        <Field name="min" type="number" min={0} label={t('stock.level.min')} value={min} set={setMin} />
        <Field name="max" type="number" min={0} label={t('stock.level.max')} value={max} set={setMax} />
      </div>
    </CardForm>
  );
}
