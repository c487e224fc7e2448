/** The stock forms' pickers: a store and a part from the lists the stock page loaded, a supplier from the register. */
import { api } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { loc, t, type Localized } from '../i18n.ts';

export interface StoreRef {
  id: string;
  name: Localized;
}
export interface PartRef {
  partNo: string;
  name: Localized;
}

interface PickerProps {
  name: string;
  value: string;
  set: (v: string) => void;
  disabled?: boolean;
}

/** `empty`: the label of the no-store choice (default —). */
export function StoreSelect({
  stores,
  name,
  value,
  set,
  disabled,
  empty = '—',
}: PickerProps & { stores: StoreRef[]; empty?: string }) {
  return (
    <select name={name} value={value} disabled={disabled} onChange={(e) => set(e.currentTarget.value)}>
      <option value="">{empty}</option>
      {stores.map((s) => (
        <option key={s.id} value={s.id}>
          {s.id} · {loc(s.name)}
        </option>
      ))}
    </select>
  );
}

export function PartSelect({ parts, name, value, set, disabled }: PickerProps & { parts: PartRef[] }) {
  return (
    <select name={name} value={value} disabled={disabled} onChange={(e) => set(e.currentTarget.value)}>
      <option value="">—</option>
      {parts.map((p) => (
        <option key={p.partNo} value={p.partNo}>
          {p.partNo} · {loc(p.name)}
        </option>
      ))}
    </select>
  );
}

export interface SupplierRef {
  id: string;
  name: string;
}

/**
 * A supplier from the suppliers register (供应商管理): choosing one hands its id and name to `pick`,
 * so parts and order contracts name the suppliers their quality records are kept against. Nothing
 * is shown when the register is empty or this role may not read it (the fields stay free text).
 */
export function SupplierPick({ name, pick }: { name: string; pick: (s: SupplierRef) => void }) {
  const register = useLoad(() => api.get<{ suppliers: SupplierRef[] }>('/api/suppliers').catch(() => undefined), []);
  const suppliers = register.data?.suppliers ?? [];
  if (!suppliers.length) return null;
  return (
    <label>
      {t('stock.supplier.fromRegister')}{' '}
      <select
        name={name}
        value=""
        onChange={(e) => {
          const chosen = suppliers.find((s) => s.id === e.currentTarget.value);
          if (chosen) pick(chosen);
        }}
      >
        <option value="">—</option>
        {suppliers.map((s) => (
          <option key={s.id} value={s.id}>
            {s.id} · {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}
