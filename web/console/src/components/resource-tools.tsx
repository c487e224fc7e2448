/**
 * The tools and equipment register (工具设备台账): items with where they are, who keeps them and
 * their calibration and maintenance due dates, flagged when due soon or past (the row turns red
 * and a notice counts them); add and change an item, check it out to a ticket's team and take it
 * back. Who may change it: web/auth/resource-roles.ts TOOLS_EDIT.
 */
import { useState } from 'preact/hooks';
import { TOOLS_EDIT } from '../../../auth/resource-roles.ts';
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
  dateTimeMs,
  dayMs,
  dayOf,
  localName,
  NONE,
  orNull,
  RecordForm,
  words,
  type Editing,
  type FieldDef,
  type Values,
} from './resource-form.tsx';

type Due = 'none' | 'ok' | 'due_soon' | 'overdue';
interface Tool {
  id: number;
  code: string;
  name: string;
  nameZh: string | null;
  kind: string;
  location: string;
  keeper: string | null;
  status: string;
  calibrationDueAt: number | null;
  maintenanceDueAt: number | null;
  calibration: Due;
  maintenance: Due;
  notes: string | null;
  checkout: { ticketId: number | null; team: string[]; dueBackAt: number | null } | null;
}

const KINDS = ['instrument', 'tool', 'equipment', 'vehicle'] as const;
/** The statuses a change may set (checked_out is set by check-out and return only). */
const SETTABLE = ['available', 'maintenance', 'retired'] as const;

function DueFlag({ state, at }: { state: Due; at: number | null }) {
  return (
    <span class={`due due-${state}`} data-due={state}>
      {dateTime(at)} {state !== 'none' && state !== 'ok' ? `· ${t(`res.due.${state}` as MessageKey)}` : ''}
    </span>
  );
}

const toolFields = (tool: Tool | undefined): FieldDef[] => [
  ...(tool ? [] : [{ name: 'code', label: 'res.code', required: true, maxLength: 64 } as const]),
  { name: 'name', label: 'res.nameEn', required: true, maxLength: 200 },
  { name: 'nameZh', label: 'res.nameZh', maxLength: 200 },
  { name: 'kind', label: 'res.kind', kind: 'select', required: true, options: choices(KINDS, 'res.toolKind.') },
  { name: 'location', label: 'res.location', required: true, maxLength: 200 },
  { name: 'keeper', label: 'res.keeper', maxLength: 100 },
  { name: 'calibrationDueAt', label: 'res.calibration', kind: 'date' },
  { name: 'maintenanceDueAt', label: 'res.maintenance', kind: 'date' },
  ...(tool && tool.status !== 'checked_out'
    ? [
        {
          name: 'status',
          label: 'res.status',
          kind: 'select',
          required: true,
          options: choices(SETTABLE, 'res.tool.'),
        } as const,
      ]
    : []),
  { name: 'notes', label: 'res.notes', kind: 'textarea', maxLength: 2000 },
];

const toolValues = (x: Tool): Values => ({
  name: x.name,
  nameZh: x.nameZh ?? '',
  kind: x.kind,
  location: x.location,
  keeper: x.keeper ?? '',
  calibrationDueAt: dayOf(x.calibrationDueAt),
  maintenanceDueAt: dayOf(x.maintenanceDueAt),
  status: x.status,
  notes: x.notes ?? '',
});

function saveTool(tool: Tool | undefined, v: Values) {
  const body = {
    name: v.name?.trim(),
    nameZh: orNull(v.nameZh),
    kind: v.kind,
    location: v.location?.trim(),
    keeper: orNull(v.keeper),
    calibrationDueAt: dayMs(v.calibrationDueAt ?? ''),
    maintenanceDueAt: dayMs(v.maintenanceDueAt ?? ''),
    notes: orNull(v.notes),
  };
  if (!tool) return api.post('/api/tools', { code: v.code?.trim(), ...body });
  // the status only when changed: a checked-out item's status is the check-out's
  return api.patch(`/api/tools/${tool.id}`, { ...body, ...(v.status !== tool.status ? { status: v.status } : {}) });
}

/** A tool coming back: where it is put (its location changes) and a note on its state. */
const RETURN_FIELDS: FieldDef[] = [
  { name: 'location', label: 'res.location', required: true, maxLength: 200 },
  { name: 'note', label: 'res.return.note', maxLength: 2000 },
];

const CHECKOUT_FIELDS: FieldDef[] = [
  { name: 'team', label: 'res.checkout.team', required: true, maxLength: 1000 },
  { name: 'ticketId', label: 'res.checkout.ticket', kind: 'number' },
  { name: 'dueBackAt', label: 'res.checkout.dueBack', kind: 'datetime' },
];

export function ResourceTools() {
  const tools = useLoad(() => api.get<{ tools: Tool[] }>('/api/tools'), []);
  const [editing, setEditing] = useState<Editing<number>>(NONE);
  const [checkingOut, setCheckingOut] = useState<Tool | null>(null);
  const [returning, setReturning] = useState<Tool | null>(null);
  const edit = may(TOOLS_EDIT);
  const list = tools.data?.tools ?? [];
  const done = () => (setEditing(NONE), setCheckingOut(null), setReturning(null), tools.reload());
  const current = editing.kind === 'edit' ? list.find((x) => x.id === editing.key) : undefined;
  const overdue = list.filter((x) => x.calibration === 'overdue' || x.maintenance === 'overdue');
  const columns: Column<Tool>[] = [
    { label: t('res.code'), cell: (x) => x.code },
    { label: t('res.name'), cell: localName },
    { label: t('res.kind'), cell: (x) => t(`res.toolKind.${x.kind}` as MessageKey) },
    { label: t('res.location'), cell: (x) => x.location },
    { label: t('res.keeper'), cell: (x) => x.keeper ?? '—' },
    { label: t('res.status'), cell: (x) => t(`res.tool.${x.status}` as MessageKey) },
    { label: t('res.calibration'), cell: (x) => <DueFlag state={x.calibration} at={x.calibrationDueAt} /> },
    { label: t('res.maintenance'), cell: (x) => <DueFlag state={x.maintenance} at={x.maintenanceDueAt} /> },
    {
      label: t('res.checkedOutTo'),
      cell: (x) =>
        x.checkout
          ? `${x.checkout.team.join(', ')}${x.checkout.ticketId !== null ? ` (${t('res.ticket', { id: x.checkout.ticketId })})` : ''}${x.checkout.dueBackAt ? ` · ${t('res.checkout.dueBack')} ${dateTime(x.checkout.dueBackAt)}` : ''}`
          : '—',
    },
  ];
  if (edit)
    columns.push({
      label: '',
      class: 'actions',
      cell: (x) => (
        <>
          <EditLink testid="edit-tool" onClick={() => setEditing({ kind: 'edit', key: x.id })} />
          {x.status === 'available' && (
            <button type="button" class="link" data-testid="checkout-tool" onClick={() => setCheckingOut(x)}>
              {t('res.checkout')}
            </button>
          )}
          {x.status === 'checked_out' && (
            <button type="button" class="link" data-testid="return-tool" onClick={() => setReturning(x)}>
              {t('res.return')}
            </button>
          )}
        </>
      ),
    });
  return (
    <>
      <ErrorBox error={tools.error} />
      {overdue.length > 0 && (
        <p class="notice overdue" data-testid="tools-overdue">
          {t('res.tool.overdueCount', { n: overdue.length, codes: overdue.map((x) => x.code).join(', ') })}
        </p>
      )}
      {edit && editing.kind === 'none' && (
        <div class="toolbar">
          <AddButton label="res.tool.add" testid="add-tool" onClick={() => setEditing({ kind: 'new' })} />
        </div>
      )}
      {edit && (editing.kind === 'new' || current) && (
        <RecordForm
          key={current?.id ?? 'new'}
          title={current ? `${t('res.tool.edit')} ${current.code}` : t('res.tool.add')}
          testid="tool-form"
          fields={toolFields(current)}
          initial={current ? toolValues(current) : { kind: 'tool' }}
          submit={(v) => saveTool(current, v)}
          onDone={done}
          onCancel={() => setEditing(NONE)}
        />
      )}
      {edit && checkingOut && (
        <RecordForm
          key={`out-${checkingOut.id}`}
          title={`${t('res.checkout')} ${checkingOut.code}`}
          testid="checkout-form"
          fields={CHECKOUT_FIELDS}
          submitLabel="res.checkout"
          submit={(v) =>
            api.post(`/api/tools/${checkingOut.id}/checkout`, {
              team: words(v.team ?? ''),
              ticketId: v.ticketId ? Number(v.ticketId) : null,
              dueBackAt: dateTimeMs(v.dueBackAt ?? ''),
            })
          }
          onDone={done}
          onCancel={() => setCheckingOut(null)}
        />
      )}
      {edit && returning && (
        <RecordForm
          key={`back-${returning.id}`}
          title={`${t('res.return')} ${returning.code}`}
          testid="return-form"
          fields={RETURN_FIELDS}
          initial={{ location: returning.location }}
          submitLabel="res.return"
          submit={(v) =>
            api.post(`/api/tools/${returning.id}/return`, {
              location: (v.location ?? '').trim(),
              note: v.note?.trim() ? v.note.trim() : null,
            })
          }
          onDone={done}
          onCancel={() => setReturning(null)}
        />
      )}
      <DataTable
        rows={list}
        rowKey={(x) => x.id}
        columns={columns}
        rowClass={(x) => ([x.calibration, x.maintenance].includes('overdue') ? 'overdue' : '')}
        rowAttrs={(x) => ({ 'data-code': x.code })}
      />
    </>
  );
}
