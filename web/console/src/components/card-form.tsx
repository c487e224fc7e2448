/**
 * A small form in a card: a title, its fields, one submit button (and any further buttons), an
 * optional hint. The stock page's forms are all this shape (transfers: ship, cancel, receive;
 * parts, stores, levels, contracts, receipts, field returns), so they share it. Also the hook that
 * runs one of their API calls and keeps its error, and a labelled text field.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorText } from '../api.ts';

/** Runs an API call: true when it succeeded (the error is shown by the caller's `err`). */
export type Act = (p: Promise<unknown>) => Promise<boolean>;

/** One action runner with its last error; `done` runs after each success (reload the lists). */
export function useAct(done: () => void): { err: string | null; act: Act } {
  const [err, setErr] = useState<string | null>(null);
  const act: Act = (p) =>
    p.then(
      () => {
        setErr(null);
        done();
        return true;
      },
      (e: unknown) => {
        setErr(errorText(e));
        return false;
      },
    );
  return { err, act };
}

interface CardFormProps {
  testid: string;
  title: ComponentChildren;
  /** The submit button's label. */
  submit: string;
  disabled?: boolean;
  onSubmit: () => unknown;
  /** More buttons beside the submit button. */
  extra?: ComponentChildren;
  hint?: string;
  children: ComponentChildren;
}

export function CardForm({ testid, title, submit, disabled, onSubmit, extra, hint, children }: CardFormProps) {
  return (
    <section class="card" data-testid={testid}>
      <h3>{title}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!disabled) void onSubmit();
        }}
      >
        {children}
        <div class="form-row">
          <button type="submit" disabled={disabled}>
            {submit}
          </button>
          {extra}
        </div>
      </form>
      {hint && <p class="muted">{hint}</p>}
    </section>
  );
}

interface FieldProps {
  name: string;
  label: string;
  value: string;
  set: (v: string) => void;
  type?: 'text' | 'number';
  maxLength?: number;
  min?: number;
  max?: number;
  step?: string;
  disabled?: boolean;
}

/** A labelled input whose value is a string (numbers parsed by the caller). */
export function Field({ name, label, value, set, type = 'text', ...rest }: FieldProps) {
  const onInput = (e: { currentTarget: HTMLInputElement }) => set(e.currentTarget.value);
  return (
    <label>
      {label}{' '}
      {type === 'number' ? (
        <input name={name} type="number" value={value} onInput={onInput} {...rest} />
      ) : (
        <input name={name} type="text" value={value} onInput={onInput} {...rest} />
      )}
    </label>
  );
}
