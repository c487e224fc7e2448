/**
 * Date and time fields in the console's one format (format.ts): "2026-12-03", "17:37",
 * "2026-12-03 17:37" — 24-hour, in both languages. The browser's own pickers (`type=date`,
 * `time`, `datetime-local`) show the browser's locale instead ("12/03/2026, 05:37 PM"), so these
 * are text fields with a pattern the browser checks. Values are those of the browser's own inputs
 * (`2026-12-03T17:37` for a date and time), so callers parse them as before.
 */
type Kind = 'date' | 'time' | 'datetime';

const HOUR_MINUTE = '([01][0-9]|2[0-3]):[0-5][0-9]';
const DATE = '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])';
const FORMATS: Record<Kind, { pattern: string; placeholder: string; length: number }> = {
  date: { pattern: DATE, placeholder: '2026-12-03', length: 10 },
  time: { pattern: HOUR_MINUTE, placeholder: '17:37', length: 5 },
  datetime: { pattern: `${DATE}[ T]${HOUR_MINUTE}`, placeholder: '2026-12-03 17:37', length: 16 },
};

interface Props {
  kind: Kind;
  value: string;
  /** Like an input's `onInput`: `currentTarget.value` is the value as the browser's own input would give it. */
  onInput: (e: { currentTarget: { value: string } }) => void;
  required?: boolean;
  disabled?: boolean;
  name?: string;
  title?: string;
  'aria-label'?: string;
}

export function DateTimeInput({ kind, value, onInput, ...rest }: Props) {
  const f = FORMATS[kind];
  return (
    <input
      {...rest}
      type="text"
      inputMode="numeric"
      autoComplete="off"
      pattern={f.pattern}
      placeholder={f.placeholder}
      maxLength={f.length}
      size={f.length + 1}
      data-format={kind}
      value={kind === 'datetime' ? value.replace('T', ' ') : value}
      onInput={(e) =>
        onInput({
          currentTarget: {
            value: kind === 'datetime' ? e.currentTarget.value.replace(' ', 'T') : e.currentTarget.value,
          },
        })
      }
    />
  );
}
