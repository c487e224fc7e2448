/**
 * Suppliers (供应商管理): certification with its expiry, audits, status, the latest evaluation;
 * add and change a supplier; open one for its evaluations, quality records and quality feedback
 * (resource-supplier-quality.tsx); the failure rates per supplier part over the fleet's hours.
 * Who may change it: web/auth/resource-roles.ts SUPPLIERS_EDIT (supply chain among them).
 */
import { useState } from 'preact/hooks';
import { SUPPLIERS_EDIT } from '../../../auth/resource-roles.ts';
import { api } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';
import { may } from '../session.ts';
import { ErrorBox } from './badges.tsx';
import { DataTable, type Column } from './data-table.tsx';
import {
  EditLink,
  AddButton,
  choices,
  dayMs,
  dayOf,
  localName,
  NONE,
  orNull,
  RecordForm,
  type Editing,
  type FieldDef,
  type Values,
} from './resource-form.tsx';
import { SupplierQuality, type FailureRate } from './resource-supplier-quality.tsx';

export interface Supplier {
  id: string;
  name: string;
  nameZh: string | null;
  contact: string;
  certification: string | null;
  certifiedUntil: number | null;
  certificationExpired: boolean;
  lastAuditAt: number | null;
  nextAuditAt: number | null;
  auditOverdue: boolean;
  status: string;
  lastScore: number | null;
}

const STATUSES = ['candidate', 'approved', 'suspended'] as const;

const supplierFields = (isNew: boolean): FieldDef[] => [
  ...(isNew ? [{ name: 'id', label: 'res.code', required: true, maxLength: 64 } as const] : []),
  { name: 'name', label: 'res.nameEn', required: true, maxLength: 200 },
  { name: 'nameZh', label: 'res.nameZh', maxLength: 200 },
  { name: 'contact', label: 'res.contact', required: true, maxLength: 500 },
  { name: 'status', label: 'res.status', kind: 'select', required: true, options: choices(STATUSES, 'res.supplier.') },
  { name: 'certification', label: 'res.certification', maxLength: 200 },
  { name: 'certifiedUntil', label: 'res.certifiedUntil', kind: 'date' },
  { name: 'lastAuditAt', label: 'res.lastAudit', kind: 'date' },
  { name: 'nextAuditAt', label: 'res.nextAudit', kind: 'date' },
];

const supplierValues = (x: Supplier): Values => ({
  name: x.name,
  nameZh: x.nameZh ?? '',
  contact: x.contact,
  status: x.status,
  certification: x.certification ?? '',
  certifiedUntil: dayOf(x.certifiedUntil),
  lastAuditAt: dayOf(x.lastAuditAt),
  nextAuditAt: dayOf(x.nextAuditAt),
});

function saveSupplier(current: Supplier | undefined, v: Values) {
  const body = {
    name: v.name?.trim(),
    nameZh: orNull(v.nameZh),
    contact: v.contact?.trim(),
    status: v.status,
    certification: orNull(v.certification),
    certifiedUntil: dayMs(v.certifiedUntil ?? ''),
    lastAuditAt: dayMs(v.lastAuditAt ?? ''),
    nextAuditAt: dayMs(v.nextAuditAt ?? ''),
  };
  return current
    ? api.patch(`/api/suppliers/${encodeURIComponent(current.id)}`, body)
    : api.post('/api/suppliers', { id: v.id?.trim(), ...body });
}

export function ResourceSuppliers() {
  const suppliers = useLoad(() => api.get<{ suppliers: Supplier[] }>('/api/suppliers'), []);
  const rates = useLoad(() => api.get<{ fleetHours: number; rates: FailureRate[] }>('/api/quality/failure-rates'), []);
  const [editing, setEditing] = useState<Editing<string>>(NONE);
  const [open, setOpen] = useState<string | null>(null);
  const edit = may(SUPPLIERS_EDIT);
  const list = suppliers.data?.suppliers ?? [];
  const current = editing.kind === 'edit' ? list.find((x) => x.id === editing.key) : undefined;
  const shown = list.find((x) => x.id === open);
  const columns: Column<Supplier>[] = [
    { label: t('res.code'), cell: (x) => x.id },
    { label: t('res.name'), cell: localName },
    { label: t('res.status'), cell: (x) => t(`res.supplier.${x.status}` as MessageKey) },
    {
      label: t('res.certification'),
      cell: (x) =>
        x.certification ? (
          <span class={x.certificationExpired ? 'overdue' : ''}>
            {x.certification} · {dateTime(x.certifiedUntil)}
            {x.certificationExpired ? ` · ${t('res.certExpired')}` : ''}
          </span>
        ) : (
          '—'
        ),
    },
    { label: t('res.lastAudit'), cell: (x) => dateTime(x.lastAuditAt) },
    {
      label: t('res.nextAudit'),
      cell: (x) => (
        <span class={x.auditOverdue ? 'overdue' : ''}>
          {dateTime(x.nextAuditAt)}
          {x.auditOverdue ? ` · ${t('res.auditOverdue')}` : ''}
        </span>
      ),
    },
    { label: t('res.score'), cell: (x) => x.lastScore ?? '—' },
    {
      label: '',
      class: 'actions',
      cell: (x) => (
        <>
          <button
            type="button"
            class="link"
            data-testid="open-supplier"
            onClick={() => setOpen(open === x.id ? null : x.id)}
          >
            {t('res.supplier.quality')}
          </button>
          {edit && <EditLink testid="edit-supplier" onClick={() => setEditing({ kind: 'edit', key: x.id })} />}
        </>
      ),
    },
  ];
  const rateColumns: Column<FailureRate>[] = [
    { label: t('res.supplier'), cell: (r) => r.supplierId },
    { label: t('res.part'), cell: (r) => r.partNumber },
    { label: t('res.failures'), cell: (r) => r.failures },
    {
      label: t('res.exposure'),
      cell: (r) =>
        `${Math.round(r.fleetHours)} · ${t(r.exposure === 'fitted_models' ? 'res.exposure.fitted' : 'res.exposure.all')}`,
    },
    { label: t('res.per1000'), cell: (r) => r.per1000Hours ?? '—' },
    { label: t('res.mtbf'), cell: (r) => r.mtbfHours ?? '—' },
  ];
  return (
    <>
      <ErrorBox error={suppliers.error ?? rates.error} />
      {edit && editing.kind === 'none' && (
        <div class="toolbar">
          <AddButton label="res.supplier.add" testid="add-supplier" onClick={() => setEditing({ kind: 'new' })} />
        </div>
      )}
      {edit && (editing.kind === 'new' || current) && (
        <RecordForm
          key={current?.id ?? 'new'}
          title={current ? `${t('res.supplier.edit')} ${current.id}` : t('res.supplier.add')}
          testid="supplier-form"
          fields={supplierFields(!current)}
          initial={current ? supplierValues(current) : { status: 'candidate' }}
          submit={(v) => saveSupplier(current, v)}
          onDone={() => (setEditing(NONE), suppliers.reload())}
          onCancel={() => setEditing(NONE)}
        />
      )}
      <DataTable rows={list} rowKey={(x) => x.id} columns={columns} rowAttrs={(x) => ({ 'data-supplier': x.id })} />
      {shown && (
        <SupplierQuality
          key={shown.id}
          supplier={shown}
          edit={edit}
          rates={(rates.data?.rates ?? []).filter((r) => r.supplierId === shown.id)}
          onChanged={() => (suppliers.reload(), rates.reload())}
        />
      )}
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
