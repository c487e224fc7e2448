/**
 * The resource register's forms (tools, suppliers, partners, people, evaluations, quality
 * feedback): a card of labelled fields described as data, optional row lists (a partner's
 * contacts, a person's qualifications), one submit that reports the platform's refusal in the
 * user's language. Values are the fields' strings; the callers turn them into the API's body with
 * the converters below (dates in the console's one format through DateTimeInput).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorText } from '../api.ts';
import { toLocalInput } from '../format.ts';
import { getLang, t, type MessageKey } from '../i18n.ts';
import { DateTimeInput } from './date-input.tsx';

export type Values = Record<string, string>;

export interface FieldDef {
  name: string;
  label: MessageKey;
  kind?: 'text' | 'textarea' | 'date' | 'datetime' | 'select' | 'checkbox' | 'number';
  options?: readonly { value: string; label: string }[];
  required?: boolean;
  maxLength?: number;
}

/** A list of rows of fields (contacts, qualifications), each row a Values. */
export interface RowsDef {
  name: string;
  label: MessageKey;
  fields: FieldDef[];
}

/** Select options from a list of codes, labelled by `prefix + code` ('res.tool.' + 'available'). */
export const choices = (codes: readonly string[], prefix: string) =>
  codes.map((value) => ({ value, label: t(`${prefix}${value}` as MessageKey) }));
/** 1–5 for ratings and scores. */
export const RATING = ['1', '2', '3', '4', '5'].map((value) => ({ value, label: value }));

/** A day ('2026-12-03', local) from epoch ms, '' for none. */
export const dayOf = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '' : toLocalInput(ms).slice(0, 10);
/** Epoch ms of a day's local midnight, null for ''. */
export const dayMs = (s: string) => (s ? new Date(`${s}T00:00`).getTime() : null);
/** Epoch ms of a local date-time ('2026-12-03T17:37'), null for ''. */
export const dateTimeMs = (s: string) => (s ? new Date(s).getTime() : null);
/** Trimmed text, null when empty. */
export const orNull = (s: string | undefined) => s?.trim() || null;
/** A comma-separated list (also the Chinese comma and 、). */
export const words = (s: string) =>
  s
    .split(/[,，、]/)
    .map((x) => x.trim())
    .filter(Boolean);
export const bool = (s: string | undefined) => s === 'true';

export function Field({ def, value, set }: { def: FieldDef; value: string; set: (v: string) => void }) {
  const { name, kind = 'text', required, maxLength } = def;
  const common = { name, ...(required ? { required } : {}) };
  let input: ComponentChildren;
  if (kind === 'date' || kind === 'datetime')
    input = <DateTimeInput kind={kind} {...common} value={value} onInput={(e) => set(e.currentTarget.value)} />;
  else if (kind === 'select')
    input = (
      <select {...common} value={value} onChange={(e) => set(e.currentTarget.value)}>
        {!required && <option value="">—</option>}
        {def.options?.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  else if (kind === 'checkbox')
    input = (
      <input
        type="checkbox"
        name={name}
        checked={value === 'true'}
        onChange={(e) => set(e.currentTarget.checked ? 'true' : '')}
      />
    );
  else if (kind === 'textarea')
    input = (
      <textarea {...common} rows={3} maxLength={maxLength} value={value} onInput={(e) => set(e.currentTarget.value)} />
    );
  else if (kind === 'number')
    input = <input {...common} type="number" min={1} value={value} onInput={(e) => set(e.currentTarget.value)} />;
  else
    input = (
      <input {...common} type="text" maxLength={maxLength} value={value} onInput={(e) => set(e.currentTarget.value)} />
    );
  return (
    <label>
      {t(def.label)}
      {input}
    </label>
  );
}

function Rows({ def, rows, set }: { def: RowsDef; rows: Values[]; set: (rows: Values[]) => void }) {
  return (
    <fieldset data-testid={`rows-${def.name}`}>
      <legend>{t(def.label)}</legend>
      {rows.map((row, i) => (
        <div class="toolbar" key={i} data-row={i}>
          {def.fields.map((f) => (
            <Field
              key={f.name}
              def={f}
              value={row[f.name] ?? ''}
              set={(v) => set(rows.map((r, j) => (j === i ? { ...r, [f.name]: v } : r)))}
            />
          ))}
          <button type="button" title={t('res.form.removeRow')} onClick={() => set(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" data-testid={`add-${def.name}`} onClick={() => set([...rows, {}])}>
        {t('res.form.addRow')}
      </button>
    </fieldset>
  );
}

/**
 * A form card: `fields` from `initial`, the row lists of `rows` from `initialRows`; `submit` sends
 * them (throws the API's error), then `onDone`. Cancel closes without sending.
 */
export function RecordForm(props: {
  title: string;
  testid: string;
  fields: FieldDef[];
  initial?: Values;
  rows?: RowsDef[];
  initialRows?: Record<string, Values[]>;
  submitLabel?: MessageKey;
  submit: (values: Values, rows: Record<string, Values[]>) => Promise<unknown>;
  onDone: () => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState<Values>(props.initial ?? {});
  const [rows, setRows] = useState<Record<string, Values[]>>(props.initialRows ?? {});
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await props.submit(values, rows);
      props.onDone();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" data-testid={props.testid} onSubmit={send}>
      <h3>{props.title}</h3>
      <div class="toolbar">
        {props.fields.map((f) => (
          <Field
            key={f.name}
            def={f}
            value={values[f.name] ?? ''}
            set={(v) => setValues((x) => ({ ...x, [f.name]: v }))}
          />
        ))}
      </div>
      {props.rows?.map((r) => (
        <Rows
          key={r.name}
          def={r}
          rows={rows[r.name] ?? []}
          set={(list) => setRows((x) => ({ ...x, [r.name]: list }))}
        />
      ))}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={busy} data-testid={`${props.testid}-save`}>
          {t(props.submitLabel ?? 'res.form.save')}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t('res.form.cancel')}
          </button>
        )}
      </div>
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </form>
  );
}

/** Which record a tab's form is open for: none, a new one, or the one with this key. */
export type Editing<K> = { kind: 'none' } | { kind: 'new' } | { kind: 'edit'; key: K };
export const NONE = { kind: 'none' } as const;

/** A button that opens one of a register tab's forms (shown only where the role may write). */
export function AddButton({ label, testid, onClick }: { label: MessageKey; testid: string; onClick: () => void }) {
  return (
    <button type="button" class="primary" data-testid={testid} onClick={onClick}>
      {t(label)}
    </button>
  );
}

/** A register record's name in the current language (its Chinese name when there is one). */
export const localName = (x: { name: string; nameZh: string | null }) =>
  getLang() === 'zh' && x.nameZh ? x.nameZh : x.name;

/** The link that opens a register record's form (`data-testid` = `testid`). */
export function EditLink({ testid, onClick }: { testid: string; onClick: () => void }) {
  return (
    <button type="button" class="link" data-testid={testid} onClick={onClick}>
      {t('res.form.edit')}
    </button>
  );
}
