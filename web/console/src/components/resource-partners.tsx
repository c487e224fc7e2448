/**
 * Partner repair shops and towing companies (修理厂/拖车公司), best first: regions covered,
 * capabilities, reputation and technical strength, contacts, contract terms, and their performance
 * (arrivals on time, rework, minutes late); add and change a partner. Who may change it:
 * web/auth/resource-roles.ts PARTNERS_EDIT (the duty desk and admins).
 */
import { useState } from 'preact/hooks';
import { PARTNERS_EDIT } from '../../../auth/resource-roles.ts';
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
  bool,
  choices,
  dayMs,
  dayOf,
  localName,
  NONE,
  orNull,
  RATING,
  RecordForm,
  words,
  type Editing,
  type FieldDef,
  type RowsDef,
  type Values,
} from './resource-form.tsx';

interface Contact {
  name: string;
  phone: string;
  role?: string;
}
interface Partner {
  id: number;
  kind: string;
  name: string;
  nameZh: string | null;
  regions: string[];
  capabilities: string[];
  reputation: number;
  technicalStrength: number;
  contacts: Contact[];
  contractTerms: string | null;
  contractUntil: number | null;
  active: boolean;
  performance: {
    arrived: number;
    onTimePct: number | null;
    completed: number;
    reworkPct: number | null;
    meanLateMin: number | null;
  };
}

const KINDS = ['repair_shop', 'towing'] as const;
const pct = (n: number | null) => (n === null ? '—' : `${n}%`);

const PARTNER_FIELDS: FieldDef[] = [
  { name: 'kind', label: 'res.kind', kind: 'select', required: true, options: choices(KINDS, 'res.partner.') },
  { name: 'name', label: 'res.nameEn', required: true, maxLength: 200 },
  { name: 'nameZh', label: 'res.nameZh', maxLength: 200 },
  { name: 'regions', label: 'res.regionsList', maxLength: 2000 },
  { name: 'capabilities', label: 'res.capabilitiesList', maxLength: 2000 },
  { name: 'reputation', label: 'res.reputation', kind: 'select', required: true, options: RATING },
  { name: 'technicalStrength', label: 'res.technicalStrength', kind: 'select', required: true, options: RATING },
  { name: 'contractUntil', label: 'res.contractUntil', kind: 'date' },
  { name: 'active', label: 'res.active', kind: 'checkbox' },
  { name: 'contractTerms', label: 'res.contractTerms', kind: 'textarea', maxLength: 5000 },
];
const CONTACTS: RowsDef[] = [
  {
    name: 'contacts',
    label: 'res.contacts',
    fields: [
      { name: 'name', label: 'res.name', required: true, maxLength: 100 },
      { name: 'phone', label: 'res.phone', required: true, maxLength: 40 },
      { name: 'role', label: 'res.contactRole', maxLength: 100 },
    ],
  },
];

const partnerValues = (x: Partner): Values => ({
  kind: x.kind,
  name: x.name,
  nameZh: x.nameZh ?? '',
  regions: x.regions.join(', '),
  capabilities: x.capabilities.join(', '),
  reputation: String(x.reputation),
  technicalStrength: String(x.technicalStrength),
  contractUntil: dayOf(x.contractUntil),
  active: x.active ? 'true' : '',
  contractTerms: x.contractTerms ?? '',
});

function savePartner(current: Partner | undefined, v: Values, rows: Record<string, Values[]>) {
  const body = {
    kind: v.kind,
    name: v.name?.trim(),
    nameZh: orNull(v.nameZh),
    regions: words(v.regions ?? ''),
    capabilities: words(v.capabilities ?? ''),
    reputation: Number(v.reputation),
    technicalStrength: Number(v.technicalStrength),
    contacts: (rows.contacts ?? []).map((c) => ({
      name: c.name?.trim() ?? '',
      phone: c.phone?.trim() ?? '',
      ...(c.role?.trim() ? { role: c.role.trim() } : {}),
    })),
    contractTerms: orNull(v.contractTerms),
    contractUntil: dayMs(v.contractUntil ?? ''),
    active: bool(v.active),
  };
  return current ? api.patch(`/api/partners/${current.id}`, body) : api.post('/api/partners', body);
}

export function ResourcePartners() {
  const partners = useLoad(() => api.get<{ partners: Partner[] }>('/api/partners'), []);
  const [editing, setEditing] = useState<Editing<number>>(NONE);
  const edit = may(PARTNERS_EDIT);
  const list = partners.data?.partners ?? [];
  const current = editing.kind === 'edit' ? list.find((x) => x.id === editing.key) : undefined;
  const columns: Column<Partner>[] = [
    { label: t('res.name'), cell: localName },
    { label: t('res.kind'), cell: (x) => t(`res.partner.${x.kind}` as MessageKey) },
    { label: t('res.regions'), cell: (x) => x.regions.join(', ') },
    { label: t('res.capabilities'), cell: (x) => x.capabilities.join(', ') },
    { label: t('res.ratings'), cell: (x) => `${x.reputation} / ${x.technicalStrength}` },
    {
      label: t('res.onTime'),
      cell: (x) => `${pct(x.performance.onTimePct)} (${t('res.perf.arrivals', { n: x.performance.arrived })})`,
    },
    {
      label: t('res.rework'),
      cell: (x) => `${pct(x.performance.reworkPct)} (${t('res.perf.completed', { n: x.performance.completed })})`,
    },
    { label: t('res.perf.late'), cell: (x) => x.performance.meanLateMin ?? '—' },
    { label: t('res.contacts'), cell: (x) => x.contacts.map((c) => `${c.name} ${c.phone}`).join('; ') },
    {
      label: t('res.contractTerms'),
      cell: (x) =>
        `${x.contractTerms ?? '—'}${x.contractUntil ? ` · ${t('res.until')} ${dateTime(x.contractUntil)}` : ''}`,
    },
    { label: t('res.active'), cell: (x) => (x.active ? t('res.yes') : t('res.no')) },
  ];
  if (edit)
    columns.push({
      label: '',
      class: 'actions',
      cell: (x) => <EditLink testid="edit-partner" onClick={() => setEditing({ kind: 'edit', key: x.id })} />,
    });
  return (
    <>
      <ErrorBox error={partners.error} />
      {edit && editing.kind === 'none' && (
        <div class="toolbar">
          <AddButton label="res.partner.add" testid="add-partner" onClick={() => setEditing({ kind: 'new' })} />
        </div>
      )}
      {edit && (editing.kind === 'new' || current) && (
        <RecordForm
          key={current?.id ?? 'new'}
          title={current ? `${t('res.partner.edit')} ${localName(current)}` : t('res.partner.add')}
          testid="partner-form"
          fields={PARTNER_FIELDS}
          initial={
            current
              ? partnerValues(current)
              : { kind: 'repair_shop', reputation: '3', technicalStrength: '3', active: 'true' }
          }
          rows={CONTACTS}
          initialRows={{
            contacts: (current?.contacts ?? []).map((c) => ({ name: c.name, phone: c.phone, role: c.role ?? '' })),
          }}
          submit={(v, rows) => savePartner(current, v, rows)}
          onDone={() => (setEditing(NONE), partners.reload())}
          onCancel={() => setEditing(NONE)}
        />
      )}
      <DataTable
        rows={list}
        rowKey={(x) => x.id}
        columns={columns}
        rowClass={(x) => (x.active ? '' : 'muted')}
        rowAttrs={(x) => ({ 'data-partner': x.name })}
      />
    </>
  );
}
