/**
 * Attributing a ticket's cause to a supplier's part (质量信息反馈): the ticket's quality records
 * (GET /api/tickets/{id}/quality-records: staff) and, for admin and engineers (technical centre),
 * the form that attributes it — a part from the catalogue and one of its suppliers (any supplier of
 * the register when the catalogue names none), with the cause in words.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { loc, personName, t, useLang, type Localized } from '../i18n.ts';
import { isStaff, me } from '../session.ts';
import { DataTable } from './data-table.tsx';

interface QualityRecord {
  id: number;
  partNumber: string;
  supplierId: string;
  note: string | null;
  recordedBy: string;
  recordedAt: number;
}
interface Part {
  partNo: string;
  name: Localized;
  suppliers: { id: string; name: string }[];
}
interface Supplier {
  id: string;
  name: string;
  nameZh: string | null;
}

export function TicketQuality({ ticketId }: { ticketId: number }) {
  useLang();
  const role = me().role;
  if (!isStaff(role)) return null;
  return <QualityPanel ticketId={ticketId} canAttribute={role === 'admin' || role === 'engineer'} />;
}

function QualityPanel({ ticketId, canAttribute }: { ticketId: number; canAttribute: boolean }) {
  const records = useLoad(
    () => api.get<{ records: QualityRecord[] }>(`/api/tickets/${ticketId}/quality-records`),
    [ticketId],
  );
  const parts = useLoad(
    () => (canAttribute ? api.get<{ parts: Part[] }>('/api/stock/parts') : Promise.resolve({ parts: [] })),
    [canAttribute],
  );
  const suppliers = useLoad(
    () => (canAttribute ? api.get<{ suppliers: Supplier[] }>('/api/suppliers') : Promise.resolve({ suppliers: [] })),
    [canAttribute],
  );
  const [partNo, setPartNo] = useState('');
  const [supplierId, setSupplierId] = useState('');
  const [note, setNote] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const part = parts.data?.parts.find((p) => p.partNo === partNo);
  const all = suppliers.data?.suppliers ?? [];
  const choices = part?.suppliers.length
    ? part.suppliers.map((s) => ({ id: s.id, name: all.find((x) => x.id === s.id)?.name ?? s.name }))
    : all.map((s) => ({ id: s.id, name: s.name }));
  const supplierName = (id: string) => {
    const s = all.find((x) => x.id === id);
    return s ? `${s.name} (${id})` : id;
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await api.post(`/api/tickets/${ticketId}/quality-records`, {
        partNumber: partNo,
        supplierId,
        ...(note.trim() ? { note: note.trim() } : {}),
      });
      setPartNo('');
      setSupplierId('');
      setNote('');
      records.reload();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  const list = records.data?.records ?? [];
  return (
    <section class="card" data-testid="ticket-quality">
      <h3>{t('quality.title')}</h3>
      {records.error !== undefined && <div class="error">{errorText(records.error)}</div>}
      {list.length === 0 ? (
        <p class="muted">{t('quality.none')}</p>
      ) : (
        <DataTable
          rows={list}
          rowKey={(r) => r.id}
          columns={[
            { label: t('res.part'), cell: (r) => r.partNumber },
            { label: t('res.supplier'), cell: (r) => supplierName(r.supplierId) },
            { label: t('quality.cause'), cell: (r) => r.note ?? '' },
            { label: t('quality.by'), cell: (r) => `${personName(r.recordedBy)} · ${dateTime(r.recordedAt)}` },
          ]}
        />
      )}
      {canAttribute && (
        <form class="toolbar" data-testid="quality-form" onSubmit={submit}>
          <select
            name="quality-part"
            aria-label={t('res.part')}
            required
            value={partNo}
            onChange={(e) => {
              setPartNo(e.currentTarget.value);
              setSupplierId('');
            }}
          >
            <option value="">{t('res.part')} —</option>
            {(parts.data?.parts ?? []).map((p) => (
              <option key={p.partNo} value={p.partNo}>
                {p.partNo} {loc(p.name)}
              </option>
            ))}
          </select>
          <select
            name="quality-supplier"
            aria-label={t('res.supplier')}
            required
            value={supplierId}
            onChange={(e) => setSupplierId(e.currentTarget.value)}
          >
            <option value="">{t('res.supplier')} —</option>
            {choices.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.id})
              </option>
            ))}
          </select>
          <input
            class="grow"
            name="quality-note"
            maxLength={2000}
            placeholder={t('quality.causeHint')}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
          <button type="submit" class="primary" disabled={busy} data-testid="quality-attribute">
            {t('quality.attribute')}
          </button>
        </form>
      )}
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </section>
  );
}
