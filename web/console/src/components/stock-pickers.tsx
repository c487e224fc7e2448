/** The stock forms' pickers: a store and a part from the lists the stock page loaded. */
import { loc, type Localized } from '../i18n.ts';

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
