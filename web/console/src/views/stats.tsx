/** Statistics (信息统计) for the duty desk and management: service figures and survey scores by group, a uPlot chart by period, CSV export, follow-ups. */
import { useState } from 'preact/hooks';
import { DateTimeInput } from '../components/date-input.tsx';
import { api, errorText } from '../api.ts';
import { ErrorBox, LevelBadge } from '../components/badges.tsx';
import { Chart } from '../components/chart.tsx';
import { DataTable } from '../components/data-table.tsx';
import { dateTime, duration, toLocalInput } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';

const DIMENSIONS = ['level', 'fault', 'model', 'unit', 'period', 'supplier_part'] as const;
const PERIODS = ['day', 'week', 'month'] as const;
const DAY = 86_400_000;

interface Rate {
  met: number;
  total: number;
  rate: number | null;
}
interface ServiceRow {
  key: string;
  tickets: number;
  workContent: Rate;
  plan: Rate;
  closed: number;
  mttrMs: number | null;
  restore: { count: number; avgMs: number | null };
  arrive: { count: number; avgMs: number | null };
  firstTimeFix: { count: number; rate: number | null };
  remote: { count: number; rate: number | null };
  repeats: number;
}
interface SurveyRow {
  key: string;
  sent: number;
  answered: number;
  responseRate: number | null;
  scores: { response: number | null; quality: number | null; attitude: number | null };
  low: number;
}
interface ResourceStats {
  parts: { partNo: string; name: { en: string; zh: string }; unit: string; qty: number; tickets: number }[];
  supplierParts: { supplierId: string; partNumber: string; failures: number; tickets: number; replaced: number }[];
  partners: {
    partnerId: number;
    name: string;
    kind: string;
    dispatches: number;
    arrived: number;
    onTimeRate: number | null;
    completed: number;
    reworkRate: number | null;
    avgLateMin: number | null;
  }[];
}
interface FollowUp {
  id: number;
  ticketId: number;
  customerId: string;
  openedAt: number;
  assignee: string | null;
  status: 'open' | 'done';
  outcome: string | null;
}

const pct = (r: number | null) => (r === null ? '—' : `${Math.round(r * 1000) / 10} %`);
const mins = (ms: number | null) => (ms === null ? '—' : duration(ms));
const score = (v: number | null) => (v === null ? '—' : v.toFixed(2));

export function Stats() {
  const lang = useLang();
  const [by, setBy] = useState<(typeof DIMENSIONS)[number]>('level');
  const [period, setPeriod] = useState<(typeof PERIODS)[number]>('month');
  const [to] = useState(() => Date.now());
  const [from, setFrom] = useState(() => to - 365 * DAY);
  const query = { by, period, from, to };
  const service = useLoad(
    () => api.get<{ rows: ServiceRow[]; seams: Record<string, string> }>('/api/stats/service', query),
    [by, period, from],
  );
  const surveys = useLoad(() => api.get<{ rows: SurveyRow[] }>('/api/stats/surveys', query), [by, period, from]);
  const resources = useLoad(() => api.get<ResourceStats>('/api/stats/resources', { from, to }), [from]);
  const followUps = useLoad(() => api.get<{ followUps: FollowUp[] }>('/api/survey-follow-ups', { status: 'open' }), []);
  const [outcome, setOutcome] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const label = (k: string) => (by === 'level' ? <LevelBadge level={k} /> : k || '—');
  const csv = (view: string) =>
    `/api/stats/export?${new URLSearchParams({ view, by, period, from: String(from), to: String(to) })}`;
  const rows = service.data?.rows ?? [];
  // by period: the rates over time (x: each period's start)
  const chartData =
    by === 'period' && rows.length > 0
      ? [
          rows.map((r) => Date.parse(`${r.key}T00:00:00`) / 1000),
          rows.map((r) => (r.workContent.rate === null ? null : r.workContent.rate * 100)),
          rows.map((r) => (r.firstTimeFix.rate === null ? null : r.firstTimeFix.rate * 100)),
          rows.map((r) => (r.remote.rate === null ? null : r.remote.rate * 100)),
        ]
      : null;

  return (
    <div class="view stats" data-testid="stats-view">
      <h2>{t('stats.title')}</h2>
      <div class="toolbar">
        <label>
          {t('stats.by')}{' '}
          <select value={by} onChange={(e) => setBy(e.currentTarget.value as typeof by)} data-testid="stats-by">
            {DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {t(`stats.by.${d}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        {by === 'period' && (
          <select value={period} onChange={(e) => setPeriod(e.currentTarget.value as typeof period)}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {t(`stats.period.${p}` as MessageKey)}
              </option>
            ))}
          </select>
        )}
        <label>
          {t('stats.from')}{' '}
          <DateTimeInput
            kind="datetime"
            value={toLocalInput(from)}
            onInput={(e) => {
              const v = Date.parse(e.currentTarget.value);
              if (Number.isFinite(v) && v < to) setFrom(v);
            }}
          />
        </label>
        <span class="muted">
          {t('stats.to')} {dateTime(to)}
        </span>
        <a href={csv('service')} download data-testid="stats-csv">
          {t('stats.csv')}
        </a>
      </div>
      {service.error && <ErrorBox error={service.error} />}
      {chartData && (
        <Chart
          id="stats-rates"
          title={t('stats.chart')}
          series={[
            { label: t('stats.col.workContent'), color: '#2563eb', unit: '%' },
            { label: t('stats.col.firstFix'), color: '#16a34a', unit: '%' },
            { label: t('stats.col.remote'), color: '#d97706', unit: '%' },
          ]}
          data={chartData}
          leftUnit="%"
          leftRange={[0, 100]}
          height={220}
        />
      )}
      <DataTable
        rows={rows}
        rowKey={(r) => r.key}
        rowAttrs={(r) => ({ 'data-key': r.key })}
        columns={[
          { label: t('stats.col.key'), cell: (r) => label(r.key) },
          { label: t('stats.col.tickets'), cell: (r) => r.tickets },
          { label: t('stats.col.workContent'), cell: (r) => pct(r.workContent.rate) },
          { label: t('stats.col.plan'), cell: (r) => (r.plan.total ? pct(r.plan.rate) : '—') },
          { label: t('stats.col.closed'), cell: (r) => r.closed },
          { label: t('stats.col.mttr'), cell: (r) => mins(r.mttrMs) },
          { label: t('stats.col.restore'), cell: (r) => mins(r.restore.avgMs) },
          { label: t('stats.col.arrive'), cell: (r) => mins(r.arrive.avgMs) },
          { label: t('stats.col.firstFix'), cell: (r) => pct(r.firstTimeFix.rate) },
          { label: t('stats.col.remote'), cell: (r) => pct(r.remote.rate) },
          { label: t('stats.col.repeats'), cell: (r) => r.repeats },
        ]}
      />
      {service.data && Object.keys(service.data.seams).length > 0 && (
        <p class="muted">
          {t('stats.seams')}: {Object.values(service.data.seams).join('; ')}
        </p>
      )}
      <h3>
        {t('stats.surveys')}{' '}
        <a href={csv('surveys')} download>
          {t('stats.csv')}
        </a>
      </h3>
      <DataTable
        rows={surveys.data?.rows ?? []}
        rowKey={(r) => r.key}
        columns={[
          { label: t('stats.col.key'), cell: (r) => label(r.key) },
          { label: t('stats.col.sent'), cell: (r) => r.sent },
          { label: t('stats.col.answered'), cell: (r) => r.answered },
          { label: t('stats.col.responseRate'), cell: (r) => pct(r.responseRate) },
          {
            label: t('stats.col.scores'),
            cell: (r) => `${score(r.scores.response)} / ${score(r.scores.quality)} / ${score(r.scores.attitude)}`,
          },
          { label: t('stats.col.low'), cell: (r) => r.low },
        ]}
      />
      <h3>{t('stats.parts')}</h3>
      {resources.error && <ErrorBox error={resources.error} />}
      <DataTable
        rows={resources.data?.parts ?? []}
        rowKey={(r) => r.partNo}
        rowAttrs={(r) => ({ 'data-part': r.partNo })}
        columns={[
          { label: t('stats.col.part'), cell: (r) => `${r.partNo} ${r.name[lang === 'zh' ? 'zh' : 'en']}` },
          { label: t('stats.col.consumed'), cell: (r) => `${r.qty} ${r.unit}` },
          { label: t('stats.col.tickets'), cell: (r) => r.tickets },
        ]}
      />
      <h3>{t('stats.supplierParts')}</h3>
      <DataTable
        rows={resources.data?.supplierParts ?? []}
        rowKey={(r) => `${r.supplierId}:${r.partNumber}`}
        columns={[
          { label: t('stats.by.supplier_part'), cell: (r) => `${r.supplierId} · ${r.partNumber}` },
          { label: t('stats.col.failures'), cell: (r) => r.failures },
          { label: t('stats.col.replaced'), cell: (r) => r.replaced },
        ]}
      />
      <h3>{t('stats.partners')}</h3>
      <DataTable
        rows={resources.data?.partners ?? []}
        rowKey={(r) => r.partnerId}
        rowAttrs={(r) => ({ 'data-partner': r.partnerId })}
        columns={[
          { label: t('stats.col.partner'), cell: (r) => r.name },
          { label: t('stats.col.dispatches'), cell: (r) => r.dispatches },
          { label: t('stats.col.onTime'), cell: (r) => pct(r.onTimeRate) },
          { label: t('stats.col.rework'), cell: (r) => pct(r.reworkRate) },
          { label: t('stats.col.late'), cell: (r) => (r.avgLateMin === null ? '—' : `${r.avgLateMin} min`) },
        ]}
      />
      <h3>{t('stats.followUps')}</h3>
      {error && <p class="error">{error}</p>}
      <DataTable
        rows={followUps.data?.followUps ?? []}
        rowKey={(f) => f.id}
        columns={[
          { label: t('files.tickets'), cell: (f) => <a href={`#/tickets/${f.ticketId}`}>{f.ticketId}</a> },
          { label: t('common.customer'), cell: (f) => f.customerId },
          { label: t('common.at'), cell: (f) => dateTime(f.openedAt) },
          {
            label: t('stats.followUp.outcome'),
            cell: (f) => (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  setError(null);
                  api
                    .post(`/api/survey-follow-ups/${f.id}/outcome`, { outcome: outcome[f.id] ?? '' })
                    .then(followUps.reload, (err: unknown) => setError(errorText(err)));
                }}
              >
                <input
                  value={outcome[f.id] ?? ''}
                  onInput={(e) => setOutcome({ ...outcome, [f.id]: e.currentTarget.value })}
                  aria-label={t('stats.followUp.outcome')}
                />
                <button type="submit">{t('stats.followUp.record')}</button>
              </form>
            ),
          },
        ]}
      />
    </div>
  );
}
