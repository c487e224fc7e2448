/**
 * The stores on the stock page: the central spare-parts store, service points and service
 * vehicles, with position (for the nearest store with stock) and address. Supply chain and
 * admins add and change them (the id stays: the ledger names it); the duty desk and engineers
 * read. docs/resources.md.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorBox } from './badges.tsx';
import { CardForm, Field, useAct, type Act } from './card-form.tsx';
import { DataTable } from './data-table.tsx';
import { useLoad } from '../hooks.ts';
import { loc, t, type Localized, type MessageKey } from '../i18n.ts';

const KINDS = ['central', 'service_point', 'service_vehicle'] as const;
interface Store {
  id: string;
  kind: (typeof KINDS)[number];
  name: Localized;
  lat: number;
  lon: number;
  address: string;
}

export function StockStores({ edit }: { edit: boolean }) {
  const stores = useLoad(() => api.get<{ stores: Store[] }>('/api/stock/stores'), []);
  const [editing, setEditing] = useState<string | null>(null);
  const { err, act } = useAct(stores.reload);
  const list = stores.data?.stores ?? [];
  const current = list.find((s) => s.id === editing);
  return (
    <div data-testid="stock-stores">
      {err && <div class="error">{err}</div>}
      <ErrorBox error={stores.error} />
      <DataTable
        rows={list}
        rowKey={(s) => s.id}
        columns={[
          { label: t('stock.storeId'), cell: (s) => s.id },
          { label: t('stock.store.kind'), cell: (s) => t(`stock.store.kind.${s.kind}` as MessageKey) },
          { label: t('stock.name'), cell: (s) => loc(s.name) },
          { label: t('stock.store.position'), cell: (s) => `${s.lat}, ${s.lon}` },
          { label: t('stock.ticket.address'), cell: (s) => s.address },
          {
            label: '',
            class: 'actions',
            cell: (s) =>
              edit && (
                <button
                  type="button"
                  data-testid="edit-store"
                  onClick={() => setEditing(editing === s.id ? null : s.id)}
                >
                  {t('stock.edit')}
                </button>
              ),
          },
        ]}
      />
      {edit && (
        <StoreForm
          key={current?.id ?? 'new'}
          store={current}
          act={(p) => act(p).then((ok) => (ok && setEditing(null), ok))}
        />
      )}
    </div>
  );
}

/** Adds a store, or changes `store` (its id stays). */
function StoreForm({ store, act }: { store: Store | undefined; act: Act }) {
  const [id, setId] = useState(store?.id ?? '');
  const [kind, setKind] = useState<Store['kind']>(store?.kind ?? 'service_point');
  const [en, setEn] = useState(store?.name.en ?? '');
  const [zh, setZh] = useState(store?.name.zh ?? '');
  const [lat, setLat] = useState(store ? String(store.lat) : '');
  const [lon, setLon] = useState(store ? String(store.lon) : '');
  const [address, setAddress] = useState(store?.address ?? '');
  const body = {
    kind,
    name: { en: en.trim(), zh: zh.trim() },
    lat: Number(lat),
    lon: Number(lon),
    address: address.trim(),
  };
  const ok =
    (store || id.trim()) &&
    body.name.en &&
    body.name.zh &&
    body.address &&
    lat !== '' &&
    lon !== '' &&
    Math.abs(body.lat) <= 90 &&
    Math.abs(body.lon) <= 180;
  return (
    <CardForm
      testid="store-form"
      title={store ? `${t('stock.store.change')} ${store.id}` : t('stock.store.add')}
      submit={store ? t('stock.save') : t('stock.store.add')}
      disabled={!ok}
      onSubmit={() =>
        act(
          store
            ? api.put(`/api/stock/stores/${encodeURIComponent(store.id)}`, body)
            : api.post('/api/stock/stores', { ...body, id: id.trim() }),
        ).then((done) => done && !store && (setId(''), setEn(''), setZh(''), setAddress('')))
      }
    >
      <div class="form-row">
        {!store && <Field name="store-id" label={t('stock.storeId')} maxLength={32} value={id} set={setId} />}
        <label>
          {t('stock.store.kind')}{' '}
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Store['kind'])}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`stock.store.kind.${k}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <Field name="name-en" label={t('stock.nameEn')} maxLength={200} value={en} set={setEn} />
        <Field name="name-zh" label={t('stock.nameZh')} maxLength={200} value={zh} set={setZh} />
      </div>
      <div class="form-row">
        <Field name="lat" type="number" step="any" label={t('stock.store.lat')} value={lat} set={setLat} />
        <Field name="lon" type="number" step="any" label={t('stock.store.lon')} value={lon} set={setLon} />
        <Field name="address" label={t('stock.ticket.address')} maxLength={300} value={address} set={setAddress} />
      </div>
    </CardForm>
  );
}
