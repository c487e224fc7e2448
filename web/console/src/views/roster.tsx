/**
 * The duty roster (7×24 answering): shifts per weekday or date in the service time zone, with the
 * primary and secondary engineer and the duty lead, and who is on duty now. The duty desk (admin,
 * dispatcher) keeps it; engineers read it.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DataTable, type Column } from '../components/data-table.tsx';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';
import type { DutyShift } from '../types.ts';
import { DateTimeInput } from '../components/date-input.tsx';

const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];

export function Roster() {
  useLang();
  const desk = me().role === 'admin' || me().role === 'dispatcher';
  const roster = useLoad(
    () => api.get<{ timeZone: string; shifts: DutyShift[]; onDuty: DutyShift | null }>('/api/roster'),
    [],
  );
  const [err, setErr] = useState<string | null>(null);
  const [form, setForm] = useState({
    day: '1',
    date: '',
    start: '08:00',
    end: '20:00',
    primary: '',
    secondary: '',
    dutyLead: '',
  });
  const bind = (k: keyof typeof form) => ({
    value: form[k],
    onInput: (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value }),
  });
  const when = (s: DutyShift) => s.date ?? t(`roster.day.${s.weekday}` as MessageKey);
  const columns: Column<DutyShift>[] = [
    { label: t('roster.when'), cell: when },
    { label: t('roster.hours'), cell: (s) => `${s.start}–${s.end}` },
    { label: t('roster.primary'), cell: (s) => s.primary },
    { label: t('roster.secondary'), cell: (s) => s.secondary ?? '—' },
    { label: t('roster.lead'), cell: (s) => s.dutyLead },
    {
      label: '',
      class: 'actions',
      cell: (s) =>
        desk && (
          <button
            type="button"
            class="link"
            onClick={async () => {
              try {
                await api.del(`/api/roster/shifts/${s.id}`);
                roster.reload();
              } catch (x) {
                setErr(errorText(x));
              }
            }}
          >
            {t('roster.remove')}
          </button>
        ),
    },
  ];
  const r = roster.data;
  return (
    <div class="view roster" data-testid="roster-view">
      <h2>{t('roster.title')}</h2>
      <ErrorBox error={roster.error} />
      {r && (
        <p>
          {t('roster.timeZone', { tz: r.timeZone })} ·{' '}
          {r.onDuty ? t('roster.onDuty', { primary: r.onDuty.primary, lead: r.onDuty.dutyLead }) : t('roster.nobody')}
        </p>
      )}
      <DataTable rows={r?.shifts ?? []} rowKey={(s) => String(s.id)} columns={columns} />
      {desk && (
        <form
          class="card inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await api.post('/api/roster/shifts', {
                weekday: form.date ? null : Number(form.day),
                date: form.date || null,
                start: form.start,
                end: form.end,
                primary: form.primary,
                secondary: form.secondary || null,
                dutyLead: form.dutyLead,
              });
              setErr(null);
              roster.reload();
            } catch (x) {
              setErr(errorText(x));
            }
          }}
        >
          <select {...bind('day')} aria-label={t('roster.when')}>
            {WEEKDAYS.map((d) => (
              <option key={d} value={String(d)}>
                {t(`roster.day.${d}` as MessageKey)}
              </option>
            ))}
          </select>
          <DateTimeInput kind="date" {...bind('date')} aria-label={t('roster.date')} title={t('roster.date')} />
          <DateTimeInput kind="time" required {...bind('start')} aria-label={t('roster.start')} />
          <DateTimeInput kind="time" required {...bind('end')} aria-label={t('roster.end')} />
          <input required placeholder={t('roster.primary')} {...bind('primary')} />
          <input placeholder={t('roster.secondary')} {...bind('secondary')} />
          <input required placeholder={t('roster.lead')} {...bind('dutyLead')} />
          <button type="submit" class="primary">
            {t('common.create')}
          </button>
        </form>
      )}
      {err && <p class="error-inline">{err}</p>}
    </div>
  );
}
