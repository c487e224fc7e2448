/**
 * People (§5: the service team and people seconded from other departments): department, skills and
 * qualifications with their expiry (an expired one is marked and does not count), availability;
 * add and change a person. Who may change it: web/auth/resource-roles.ts PEOPLE_EDIT.
 */
import { useState } from 'preact/hooks';
import { PEOPLE_EDIT } from '../../../auth/resource-roles.ts';
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
  NONE,
  orNull,
  RecordForm,
  type Editing,
  type FieldDef,
  type RowsDef,
  type Values,
} from './resource-form.tsx';

interface Qualification {
  skill: string;
  certificate: string | null;
  expiresAt: number | null;
  valid: boolean;
}
interface Person {
  id: string;
  name: string;
  department: string;
  accountId: string | null;
  phone: string | null;
  available: boolean;
  availabilityNote: string | null;
  qualifications: Qualification[];
}

const DEPARTMENTS = ['technical_centre', 'market', 'manufacturing', 'supply_chain', 'quality'] as const;
const SKILLS = [
  'generator_set',
  'power_electronics',
  'battery',
  'chassis',
  'electrical',
  'telematics',
  'towing_recovery',
] as const;

const personFields = (isNew: boolean): FieldDef[] => [
  ...(isNew ? [{ name: 'id', label: 'res.code', required: true, maxLength: 64 } as const] : []),
  { name: 'name', label: 'res.name', required: true, maxLength: 200 },
  {
    name: 'department',
    label: 'res.department',
    kind: 'select',
    required: true,
    options: choices(DEPARTMENTS, 'res.dept.'),
  },
  { name: 'accountId', label: 'res.account', maxLength: 64 },
  { name: 'phone', label: 'res.phone', maxLength: 40 },
  { name: 'available', label: 'res.available', kind: 'checkbox' },
  { name: 'availabilityNote', label: 'res.availabilityNote', maxLength: 500 },
];
const QUALIFICATIONS: RowsDef[] = [
  {
    name: 'qualifications',
    label: 'res.skills',
    fields: [
      { name: 'skill', label: 'res.skill', kind: 'select', required: true, options: choices(SKILLS, 'res.skill.') },
      { name: 'certificate', label: 'res.certificate', maxLength: 200 },
      { name: 'expiresAt', label: 'res.expiresAt', kind: 'date' },
    ],
  },
];

const personValues = (x: Person): Values => ({
  name: x.name,
  department: x.department,
  accountId: x.accountId ?? '',
  phone: x.phone ?? '',
  available: x.available ? 'true' : '',
  availabilityNote: x.availabilityNote ?? '',
});

function savePerson(current: Person | undefined, v: Values, rows: Record<string, Values[]>) {
  const body = {
    name: v.name?.trim(),
    department: v.department,
    accountId: orNull(v.accountId),
    phone: orNull(v.phone),
    available: bool(v.available),
    availabilityNote: orNull(v.availabilityNote),
    qualifications: (rows.qualifications ?? []).map((q) => ({
      skill: q.skill || SKILLS[0],
      certificate: orNull(q.certificate),
      expiresAt: dayMs(q.expiresAt ?? ''),
    })),
  };
  return current
    ? api.patch(`/api/people/${encodeURIComponent(current.id)}`, body)
    : api.post('/api/people', { id: v.id?.trim(), ...body });
}

const qualification = (q: Qualification) =>
  `${t(`res.skill.${q.skill}` as MessageKey)}${q.certificate ? ` · ${q.certificate}` : ''}${q.expiresAt !== null ? ` (${dateTime(q.expiresAt)}${q.valid ? '' : ` · ${t('res.expired')}`})` : ''}`;

export function ResourcePeople() {
  const people = useLoad(() => api.get<{ people: Person[] }>('/api/people'), []);
  const [editing, setEditing] = useState<Editing<string>>(NONE);
  const edit = may(PEOPLE_EDIT);
  const list = people.data?.people ?? [];
  const current = editing.kind === 'edit' ? list.find((x) => x.id === editing.key) : undefined;
  const columns: Column<Person>[] = [
    { label: t('res.code'), cell: (x) => x.id },
    { label: t('res.name'), cell: (x) => x.name },
    { label: t('res.department'), cell: (x) => t(`res.dept.${x.department}` as MessageKey) },
    {
      label: t('res.skills'),
      cell: (x) =>
        x.qualifications.map((q, i) => (
          <span key={i} class={q.valid ? '' : 'overdue'}>
            {i > 0 ? ', ' : ''}
            {qualification(q)}
          </span>
        )),
    },
    { label: t('res.phone'), cell: (x) => x.phone ?? '—' },
    {
      label: t('res.available'),
      cell: (x) => `${x.available ? t('res.yes') : t('res.no')}${x.availabilityNote ? ` · ${x.availabilityNote}` : ''}`,
    },
  ];
  if (edit)
    columns.push({
      label: '',
      class: 'actions',
      cell: (x) => <EditLink testid="edit-person" onClick={() => setEditing({ kind: 'edit', key: x.id })} />,
    });
  return (
    <>
      <ErrorBox error={people.error} />
      {edit && editing.kind === 'none' && (
        <div class="toolbar">
          <AddButton label="res.person.add" testid="add-person" onClick={() => setEditing({ kind: 'new' })} />
        </div>
      )}
      {edit && (editing.kind === 'new' || current) && (
        <RecordForm
          key={current?.id ?? 'new'}
          title={current ? `${t('res.person.edit')} ${current.name}` : t('res.person.add')}
          testid="person-form"
          fields={personFields(!current)}
          initial={current ? personValues(current) : { department: 'market', available: 'true' }}
          rows={QUALIFICATIONS}
          initialRows={{
            qualifications: (current?.qualifications ?? []).map((q) => ({
              skill: q.skill,
              certificate: q.certificate ?? '',
              expiresAt: dayOf(q.expiresAt),
            })),
          }}
          submit={(v, rows) => savePerson(current, v, rows)}
          onDone={() => (setEditing(NONE), people.reload())}
          onCancel={() => setEditing(NONE)}
        />
      )}
      <DataTable rows={list} rowKey={(x) => x.id} columns={columns} rowAttrs={(x) => ({ 'data-person': x.id })} />
    </>
  );
}
