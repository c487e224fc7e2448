/**
 * The resource register (staff): tools and equipment with their calibration and maintenance flags
 * (工具设备台账), suppliers with certification, audit and failure rates (供应商管理/质量信息反馈),
 * partner repair shops and towing companies with their performance (修理厂/拖车公司), people with
 * qualifications and availability. Changes go through the API (docs/resources-register.md); the
 * console shows the register and takes a checked-out tool back.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox } from '../components/badges.tsx';
import { DataTable, type Column } from '../components/data-table.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { getLang, t, useLang, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';

type Due = 'none' | 'ok' | 'due_soon' | 'overdue';
interface Tool {
  id: number;
  code: string;
  name: string;
  nameZh: string | null;
  location: string;
  keeper: string | null;
  status: string;
  calibrationDueAt: number | null;
  maintenanceDueAt: number | null;
  calibration: Due;
  maintenance: Due;
  checkout: { ticketId: number | null; team: string[] } | null;
}
interface Supplier {
  id: string;
  name: string;
  nameZh: string | null;
  certification: string | null;
  certifiedUntil: number | null;
  certificationExpired: boolean;
  nextAuditAt: number | null;
  auditOverdue: boolean;
  status: string;
  lastScore: number | null;
}
interface FailureRate {
  supplierId: string;
  partNumber: string;
  failures: number;
  per1000Hours: number | null;
  mtbfHours: number | null;
}
interface Partner {
  id: number;
  kind: string;
  name: string;
  nameZh: string | null;
  regions: string[];
  reputation: number;
  technicalStrength: number;
  contacts: { name: string; phone: string }[];
  active: boolean;
  performance: { onTimePct: number | null; reworkPct: number | null };
}
interface Person {
  id: string;
  name: string;
  department: string;
  available: boolean;
  availabilityNote: string | null;
  qualifications: { skill: string; expiresAt: number | null; valid: boolean }[];
}

const TABS = ['tools', 'suppliers', 'partners', 'people'] as const;
type Tab = (typeof TABS)[number];

const localName = (x: { name: string; nameZh: string | null }) => (getLang() === 'zh' && x.nameZh ? x.nameZh : x.name);
const pct = (n: number | null) => (n === null ? '—' : `${n}%`);

function DueFlag({ state, at }: { state: Due; at: number | null }) {
  return (
    <span class={`due due-${state}`} data-due={state}>
      {dateTime(at)} {state !== 'none' && state !== 'ok' ? `· ${t(`res.due.${state}` as MessageKey)}` : ''}
    </span>
  );
}

function Tools() {
  const tools = useLoad(() => api.get<{ tools: Tool[] }>('/api/tools'), []);
  const [err, setErr] = useState<string | null>(null);
  const columns: Column<Tool>[] = [
    { label: t('res.code'), cell: (x) => x.code },
    { label: t('res.name'), cell: localName },
    { label: t('res.location'), cell: (x) => x.location },
    { label: t('res.keeper'), cell: (x) => x.keeper ?? '—' },
    { label: t('res.status'), cell: (x) => t(`res.tool.${x.status}` as MessageKey) },
    { label: t('res.calibration'), cell: (x) => <DueFlag state={x.calibration} at={x.calibrationDueAt} /> },
    { label: t('res.maintenance'), cell: (x) => <DueFlag state={x.maintenance} at={x.maintenanceDueAt} /> },
    {
      label: t('res.checkedOutTo'),
      cell: (x) =>
        x.checkout
          ? `${x.checkout.team.join(', ')}${x.checkout.ticketId !== null ? ` (${t('res.ticket', { id: x.checkout.ticketId })})` : ''}`
          : '—',
    },
    {
      label: '',
      class: 'actions',
      cell: (x) =>
        x.status === 'checked_out' && (
          <button
            type="button"
            class="link"
            onClick={async () => {
              try {
                await api.post(`/api/tools/${x.id}/return`, {});
                tools.reload();
              } catch (e) {
                setErr(errorText(e));
              }
            }}
          >
            {t('res.return')}
          </button>
        ),
    },
  ];
  return (
    <>
      <ErrorBox error={tools.error ?? err} />
      <DataTable
        rows={tools.data?.tools ?? []}
        rowKey={(x) => x.id}
        columns={columns}
        rowClass={(x) => ([x.calibration, x.maintenance].includes('overdue') ? 'overdue' : '')}
        rowAttrs={(x) => ({ 'data-code': x.code })}
      />
    </>
  );
}

function Suppliers() {
  const suppliers = useLoad(() => api.get<{ suppliers: Supplier[] }>('/api/suppliers'), []);
  const rates = useLoad(() => api.get<{ fleetHours: number; rates: FailureRate[] }>('/api/quality/failure-rates'), []);
  const columns: Column<Supplier>[] = [
    { label: t('res.code'), cell: (x) => x.id },
    { label: t('res.name'), cell: localName },
    { label: t('res.status'), cell: (x) => t(`res.supplier.${x.status}` as MessageKey) },
    {
      label: t('res.certification'),
      cell: (x) =>
        x.certification
          ? `${x.certification} · ${dateTime(x.certifiedUntil)}${x.certificationExpired ? ` · ${t('res.certExpired')}` : ''}`
          : '—',
    },
    {
      label: t('res.nextAudit'),
      cell: (x) => `${dateTime(x.nextAuditAt)}${x.auditOverdue ? ` · ${t('res.auditOverdue')}` : ''}`,
    },
    { label: t('res.score'), cell: (x) => x.lastScore ?? '—' },
  ];
  const rateColumns: Column<FailureRate>[] = [
    { label: t('res.supplier'), cell: (r) => r.supplierId },
    { label: t('res.part'), cell: (r) => r.partNumber },
    { label: t('res.failures'), cell: (r) => r.failures },
    { label: t('res.per1000'), cell: (r) => r.per1000Hours ?? '—' },
    { label: t('res.mtbf'), cell: (r) => r.mtbfHours ?? '—' },
  ];
  return (
    <>
      <ErrorBox error={suppliers.error ?? rates.error} />
      <DataTable rows={suppliers.data?.suppliers ?? []} rowKey={(x) => x.id} columns={columns} />
      {rates.data && (
        <>
          <h3>{t('res.rates', { hours: Math.round(rates.data.fleetHours) })}</h3>
          {rates.data.rates.length ? (
            <DataTable
              rows={rates.data.rates}
              rowKey={(r) => `${r.supplierId} ${r.partNumber}`}
              columns={rateColumns}
            />
          ) : (
            <p class="muted">{t('res.noRates')}</p>
          )}
        </>
      )}
    </>
  );
}

function Partners() {
  const partners = useLoad(() => api.get<{ partners: Partner[] }>('/api/partners'), []);
  const columns: Column<Partner>[] = [
    { label: t('res.name'), cell: localName },
    { label: t('res.kind'), cell: (x) => t(`res.partner.${x.kind}` as MessageKey) },
    { label: t('res.regions'), cell: (x) => x.regions.join(', ') },
    { label: t('res.ratings'), cell: (x) => `${x.reputation} / ${x.technicalStrength}` },
    { label: t('res.onTime'), cell: (x) => pct(x.performance.onTimePct) },
    { label: t('res.rework'), cell: (x) => pct(x.performance.reworkPct) },
    { label: t('res.contacts'), cell: (x) => x.contacts.map((c) => `${c.name} ${c.phone}`).join('; ') },
  ];
  return (
    <>
      <ErrorBox error={partners.error} />
      <DataTable rows={partners.data?.partners ?? []} rowKey={(x) => x.id} columns={columns} />
    </>
  );
}

function People() {
  const people = useLoad(() => api.get<{ people: Person[] }>('/api/people'), []);
  const columns: Column<Person>[] = [
    { label: t('res.name'), cell: (x) => x.name },
    { label: t('res.department'), cell: (x) => t(`res.dept.${x.department}` as MessageKey) },
    {
      label: t('res.skills'),
      cell: (x) =>
        x.qualifications
          .map(
            (q) =>
              `${t(`res.skill.${q.skill}` as MessageKey)}${q.expiresAt !== null ? ` (${dateTime(q.expiresAt)}${q.valid ? '' : ` · ${t('res.expired')}`})` : ''}`,
          )
          .join(', '),
    },
    {
      label: t('res.available'),
      cell: (x) => `${x.available ? t('res.yes') : t('res.no')}${x.availabilityNote ? ` · ${x.availabilityNote}` : ''}`,
    },
  ];
  return (
    <>
      <ErrorBox error={people.error} />
      <DataTable rows={people.data?.people ?? []} rowKey={(x) => x.id} columns={columns} />
    </>
  );
}

export function Resources() {
  useLang();
  const [tab, setTab] = useState<Tab>('tools');
  if (me().role === 'customer') return null;
  return (
    <div class="view resources" data-testid="resources-view">
      <h2>{t('res.title')}</h2>
      <nav class="tabs">
        {TABS.map((x) => (
          <button key={x} type="button" class={tab === x ? 'link active' : 'link'} onClick={() => setTab(x)}>
            {t(`res.tab.${x}` as MessageKey)}
          </button>
        ))}
      </nav>
      {tab === 'tools' && <Tools />}
      {tab === 'suppliers' && <Suppliers />}
      {tab === 'partners' && <Partners />}
      {tab === 'people' && <People />}
    </div>
  );
}
