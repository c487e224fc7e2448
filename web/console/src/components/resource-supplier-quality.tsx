/**
 * One supplier's quality (质量信息反馈): its evaluations (quality, delivery, service 1–5), the
 * quality records against it (faults attributed to its parts from the tickets), the failure rates
 * of its parts, and the quality feedback sent to it with the answer tracked. Who may evaluate,
 * send feedback and record the answer: SUPPLIERS_EDIT (the `edit` prop); the others read.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';
import { ErrorBox } from './badges.tsx';
import { DataTable } from './data-table.tsx';
import {
  AddButton,
  dayMs,
  localName,
  orNull,
  RATING,
  RecordForm,
  type FieldDef,
  type Values,
} from './resource-form.tsx';
import type { Supplier } from './resource-suppliers.tsx';

import type { SupplierEvaluation as Evaluation } from '../../../../resources/suppliers/suppliers.ts';
import type {
  FailureRate,
  QualityFeedback as Feedback,
  QualityRecord,
} from '../../../../resources/suppliers/quality.ts';

export type { FailureRate };
interface Detail {
  evaluations: Evaluation[];
  records: QualityRecord[];
  feedback: Feedback[];
}

const EVALUATION_FIELDS: FieldDef[] = [
  { name: 'quality', label: 'res.eval.quality', kind: 'select', required: true, options: RATING },
  { name: 'delivery', label: 'res.eval.delivery', kind: 'select', required: true, options: RATING },
  { name: 'service', label: 'res.eval.service', kind: 'select', required: true, options: RATING },
  { name: 'note', label: 'res.notes', kind: 'textarea', maxLength: 2000 },
];

const feedbackFields = (records: QualityRecord[]): FieldDef[] => [
  { name: 'subject', label: 'res.feedback.subject', required: true, maxLength: 200 },
  {
    name: 'partNumber',
    label: 'res.part',
    kind: 'select',
    options: [...new Set(records.map((r) => r.partNumber))].map((p) => ({ value: p, label: p })),
  },
  { name: 'answerDueAt', label: 'res.feedback.answerDue', kind: 'date' },
  { name: 'text', label: 'res.feedback.text', kind: 'textarea', required: true, maxLength: 4000 },
];

const ANSWER_FIELDS: FieldDef[] = [
  { name: 'answer', label: 'res.feedback.answer', kind: 'textarea', required: true, maxLength: 4000 },
];

type Open = { kind: 'none' } | { kind: 'evaluate' } | { kind: 'feedback' } | { kind: 'answer'; id: number };

export function SupplierQuality(props: {
  supplier: Supplier;
  edit: boolean;
  rates: FailureRate[];
  onChanged: () => void;
}) {
  const { supplier, edit } = props;
  const path = `/api/suppliers/${encodeURIComponent(supplier.id)}`;
  const detail = useLoad(() => api.get<Detail>(path), [path]);
  const [open, setOpen] = useState<Open>({ kind: 'none' });
  const close = () => setOpen({ kind: 'none' });
  const done = () => (close(), detail.reload(), props.onChanged());
  const d = detail.data;
  const records = d?.records ?? [];
  const sendFeedback = (v: Values) =>
    api.post(`${path}/feedback`, {
      subject: v.subject?.trim(),
      text: v.text?.trim(),
      partNumber: orNull(v.partNumber),
      // the records of the part named (all of them when none is)
      recordIds: records.filter((r) => !v.partNumber || r.partNumber === v.partNumber).map((r) => r.id),
      answerDueAt: dayMs(v.answerDueAt ?? ''),
    });
  return (
    <section class="card" data-testid="supplier-quality" data-supplier={supplier.id}>
      <h3>
        {supplier.id} · {localName(supplier)}
      </h3>
      <ErrorBox error={detail.error} />
      {edit && open.kind === 'none' && (
        <div class="toolbar">
          <AddButton label="res.eval.add" testid="evaluate-supplier" onClick={() => setOpen({ kind: 'evaluate' })} />
          <AddButton label="res.feedback.add" testid="send-feedback" onClick={() => setOpen({ kind: 'feedback' })} />
        </div>
      )}
      {edit && open.kind === 'evaluate' && (
        <RecordForm
          title={t('res.eval.add')}
          testid="evaluation-form"
          fields={EVALUATION_FIELDS}
          initial={{ quality: '3', delivery: '3', service: '3' }}
          submit={(v) =>
            api.post(`${path}/evaluations`, {
              quality: Number(v.quality),
              delivery: Number(v.delivery),
              service: Number(v.service),
              note: orNull(v.note),
            })
          }
          onDone={done}
          onCancel={close}
        />
      )}
      {edit && open.kind === 'feedback' && (
        <RecordForm
          title={t('res.feedback.add')}
          testid="feedback-form"
          fields={feedbackFields(records)}
          submitLabel="res.feedback.send"
          submit={sendFeedback}
          onDone={done}
          onCancel={close}
        />
      )}
      {edit && open.kind === 'answer' && (
        <RecordForm
          key={open.id}
          title={t('res.feedback.recordAnswer')}
          testid="answer-form"
          fields={ANSWER_FIELDS}
          submit={(v) => api.post(`/api/quality-feedback/${open.id}/answer`, { answer: v.answer?.trim() })}
          onDone={done}
          onCancel={close}
        />
      )}
      <h4>{t('res.eval.title')}</h4>
      <DataTable
        rows={d?.evaluations ?? []}
        rowKey={(e) => e.id}
        columns={[
          { label: t('res.at'), cell: (e) => dateTime(e.at) },
          { label: t('res.by'), cell: (e) => e.by },
          { label: t('res.eval.quality'), cell: (e) => e.quality },
          { label: t('res.eval.delivery'), cell: (e) => e.delivery },
          { label: t('res.eval.service'), cell: (e) => e.service },
          { label: t('res.notes'), cell: (e) => e.note ?? '' },
        ]}
      />
      <h4>{t('res.records.title')}</h4>
      {records.length ? (
        <DataTable
          rows={records}
          rowKey={(r) => r.id}
          rowAttrs={(r) => ({ 'data-record': r.id })}
          columns={[
            { label: t('res.part'), cell: (r) => r.partNumber },
            { label: t('res.records.ticket'), cell: (r) => r.ticketId },
            { label: t('res.records.vehicle'), cell: (r) => r.vehicleId ?? '—' },
            { label: t('res.records.fault'), cell: (r) => r.faultCode ?? '—' },
            { label: t('res.records.failedAt'), cell: (r) => dateTime(r.failedAt) },
            { label: t('res.notes'), cell: (r) => r.note ?? '' },
          ]}
        />
      ) : (
        <p class="muted">{t('res.records.none')}</p>
      )}
      {props.rates.length > 0 && (
        <ul data-testid="supplier-rates">
          {props.rates.map((r) => (
            <li key={r.partNumber}>
              {t('res.rateLine', {
                part: r.partNumber,
                n: r.failures,
                rate: r.per1000Hours ?? '—',
                mtbf: r.mtbfHours ?? '—',
              })}
            </li>
          ))}
        </ul>
      )}
      <h4>{t('res.feedback.title')}</h4>
      <DataTable
        rows={d?.feedback ?? []}
        rowKey={(f) => f.id}
        rowClass={(f) => (f.state === 'overdue' ? 'overdue' : '')}
        rowAttrs={(f) => ({ 'data-feedback': f.id, 'data-state': f.state })}
        columns={[
          { label: t('res.feedback.subject'), cell: (f) => f.subject },
          { label: t('res.part'), cell: (f) => f.partNumber ?? '—' },
          { label: t('res.feedback.text'), cell: (f) => f.text },
          { label: t('res.feedback.sent'), cell: (f) => `${dateTime(f.sentAt)} · ${f.sentBy}` },
          { label: t('res.feedback.answerDue'), cell: (f) => dateTime(f.answerDueAt) },
          { label: t('res.status'), cell: (f) => t(`res.feedback.${f.state}` as MessageKey) },
          {
            label: t('res.feedback.answer'),
            cell: (f) =>
              f.answer !== null ? (
                `${f.answer} (${dateTime(f.answeredAt)})`
              ) : edit ? (
                <button
                  type="button"
                  class="link"
                  data-testid="answer-feedback"
                  onClick={() => setOpen({ kind: 'answer', id: f.id })}
                >
                  {t('res.feedback.recordAnswer')}
                </button>
              ) : (
                '—'
              ),
          },
        ]}
      />
    </section>
  );
}
