/**
 * The support plan document of a ticket (应急保障工作计划): the issued version with its forms
 * (专项保障工作计划, 售后服务工作联系函, 售后服务发运通知, HTML and PDF), the earlier versions with who
 * issued them, when, what changed and why, and for the duty desk (市场部) the draft: work content,
 * materials (spare parts reserved in the stock, tools checked out, free lines), milestones,
 * transport and ETA. Engineers read; a customer sees the issued version of its own unit's ticket.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { getLang, loc, t, useLang, type Localized, type MessageKey } from '../i18n.ts';
import { me } from '../session.ts';
import { ErrorBox } from './badges.tsx';
import { DateTimeInput } from './date-input.tsx';

const MODES = ['service_vehicle', 'car', 'train', 'air', 'courier', 'other'] as const;
const FORMS = ['plan', 'contact-letter', 'shipment-notice'] as const;

type Material =
  | { kind: 'part'; partNo: string; name: Localized; qty: number; storeId: string; reservationId: number }
  | { kind: 'tool'; toolId: number; code: string; name: Localized }
  | { kind: 'free'; name: string; qty: number | null; unit: string | null; note: string | null };
interface Content {
  workContent: string;
  people: { accountId: string; role: string; duty: string | null }[];
  materials: Material[];
  milestones: { at: number; label: string }[];
  transport: { mode: string; vehicle: string | null } | null;
  eta: number | null;
  etaNote: string | null;
  internalNote: string | null;
}
interface Version {
  version: number;
  status: 'draft' | 'issued';
  content: Content;
  draftedAt: number;
  issuedBy: string | null;
  issuedAt: number | null;
  reason: string | null;
  changes: string[];
}
interface PublicPlan {
  version: number;
  issuedAt: number | null;
  issuedBy: string | null;
  workContent: string;
  people: { name: string; role: string; duty: string | null }[];
  materials: { kind: string; name: Localized; ref: string | null; qty: number | null; unit: string | null }[];
  milestones: { at: number; label: string }[];
  transport: { mode: string; vehicle: string | null } | null;
  eta: number | null;
  etaNote: string | null;
}
interface PlanAnswer {
  current: PublicPlan | null;
  versions?: Version[];
  draft?: Version | null;
  template?: Content;
  proposedParts?: { partNo: string; name: Localized; qty: number; storeId: string | null }[];
  reservations?: { id: number; partNo: string; name: Localized; storeId: string; qty: number }[];
}
interface ToolItem {
  id: number;
  code: string;
  name: string;
  nameZh: string | null;
  status: string;
}

/** A local date-time as the date-time field takes it. */
const localInput = (ts: number) => new Date(ts - new Date(ts).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
const mode = (m: string) => t(`plan.transport.${m}` as MessageKey);
const role = (r: string) => t(`team.role.${r}` as MessageKey);

/** Draft material lines as the API takes them back: parts by their reservation, tools by id. */
type Line =
  | { kind: 'part'; reservationId: number; label: string }
  | { kind: 'part'; partNo: string; storeId: string; qty: number; label: string }
  | { kind: 'tool'; toolId: number; label: string }
  | { kind: 'free'; name: string; qty: number | null; unit: string | null; label: string };
const lineOf = (m: Material): Line =>
  m.kind === 'part'
    ? { kind: 'part', reservationId: m.reservationId, label: `${m.partNo} ${loc(m.name)} × ${m.qty} (${m.storeId})` }
    : m.kind === 'tool'
      ? { kind: 'tool', toolId: m.toolId, label: `${m.code} ${loc(m.name)}` }
      : {
          kind: 'free',
          name: m.name,
          qty: m.qty,
          unit: m.unit,
          label: `${m.name}${m.qty ? ` × ${m.qty}` : ''}${m.unit ? ` ${m.unit}` : ''}`,
        };
const lineBody = (l: Line) => {
  if (l.kind === 'part')
    return 'reservationId' in l
      ? { kind: 'part', reservationId: l.reservationId }
      : { kind: 'part', partNo: l.partNo, storeId: l.storeId, qty: l.qty };
  if (l.kind === 'tool') return { kind: 'tool', toolId: l.toolId };
  return { kind: 'free', name: l.name, qty: l.qty, unit: l.unit };
};

function IssuedPlan({ plan, ticketId }: { plan: PublicPlan; ticketId: number }) {
  return (
    <div data-testid="support-plan-current" data-version={plan.version}>
      <p>
        <strong>{t('plan.version', { n: plan.version })}</strong> · {t('plan.issuedAt')} {dateTime(plan.issuedAt)}
        {plan.issuedBy ? ` · ${plan.issuedBy}` : ''}
      </p>
      <h4>{t('plan.workContent')}</h4>
      <p class="pre" data-testid="support-plan-work">
        {plan.workContent}
      </p>
      <h4>{t('plan.people')}</h4>
      <ul>
        {plan.people.map((p, i) => (
          <li key={i}>
            {role(p.role)}: {p.name}
            {p.duty ? ` (${p.duty})` : ''}
          </li>
        ))}
      </ul>
      <h4>{t('plan.materials')}</h4>
      <ul data-testid="support-plan-materials">
        {plan.materials.map((m, i) => (
          <li key={i}>
            {t(`plan.kind.${m.kind}` as MessageKey)}: {m.ref ? `${m.ref} ` : ''}
            {loc(m.name)}
            {m.qty !== null ? ` × ${m.qty}${m.unit ? ` ${m.unit}` : ''}` : ''}
          </li>
        ))}
      </ul>
      <h4>{t('plan.schedule')}</h4>
      <ul data-testid="support-plan-milestones">
        {plan.milestones.map((m, i) => (
          <li key={i}>
            {dateTime(m.at)} {m.label}
          </li>
        ))}
      </ul>
      <p>
        {t('plan.transport')}:{' '}
        {plan.transport
          ? `${mode(plan.transport.mode)}${plan.transport.vehicle ? ` · ${plan.transport.vehicle}` : ''}`
          : '—'}
        {' · '}
        {t('plan.eta')}: <span data-testid="support-plan-eta">{dateTime(plan.eta)}</span>
        {plan.etaNote ? ` (${plan.etaNote})` : ''}
      </p>
      <p class="toolbar">
        {FORMS.map((f) => (
          <span key={f}>
            {t(`plan.form.${f}` as MessageKey)}:{' '}
            <a
              href={`/api/tickets/${ticketId}/support-plan/${f}.html?lang=${getLang()}`}
              target="_blank"
              rel="noopener"
              data-testid={`plan-form-${f}-html`}
            >
              {t('plan.html')}
            </a>{' '}
            <a
              href={`/api/tickets/${ticketId}/support-plan/${f}.pdf?lang=${getLang()}`}
              download
              data-testid={`plan-form-${f}-pdf`}
            >
              PDF
            </a>
          </span>
        ))}
      </p>
    </div>
  );
}

function Versions({ versions }: { versions: Version[] }) {
  if (versions.length < 2) return null;
  return (
    <details data-testid="support-plan-versions">
      <summary>{t('plan.versions', { n: versions.length })}</summary>
      <ol>
        {versions.map((v) => (
          <li key={v.version} data-version={v.version}>
            {t('plan.version', { n: v.version })} · {dateTime(v.issuedAt)} · {v.issuedBy}
            {v.reason ? ` · ${t('plan.reason')}: ${v.reason}` : ''} · {t('plan.changes')}: {v.changes.join(', ')} ·{' '}
            {t('plan.eta')} {dateTime(v.content.eta)}
          </li>
        ))}
      </ol>
    </details>
  );
}

function Editor({ ticketId, data, onDone }: { ticketId: number; data: PlanAnswer; onDone: () => void }) {
  const start = data.draft?.content ?? data.template!;
  const [work, setWork] = useState(start.workContent);
  const [lines, setLines] = useState<Line[]>(start.materials.map(lineOf));
  const [milestones, setMilestones] = useState(start.milestones);
  const [msAt, setMsAt] = useState(localInput(Date.now() + 60 * 60_000));
  const [msLabel, setMsLabel] = useState('');
  const [transport, setTransport] = useState(start.transport?.mode ?? '');
  const [vehicle, setVehicle] = useState(start.transport?.vehicle ?? '');
  const [eta, setEta] = useState(start.eta === null ? '' : localInput(start.eta));
  const [etaNote, setEtaNote] = useState(start.etaNote ?? '');
  const [internal, setInternal] = useState(start.internalNote ?? '');
  const [reason, setReason] = useState('');
  const [part, setPart] = useState('');
  const [free, setFree] = useState({ name: '', qty: '', unit: '' });
  const [tool, setTool] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tools = useLoad(() => api.get<{ tools: ToolItem[] }>('/api/tools'), []);
  const proposed = data.proposedParts ?? [];
  const held = (data.reservations ?? []).filter(
    (r) => !lines.some((l) => l.kind === 'part' && 'reservationId' in l && l.reservationId === r.id),
  );

  const body = () => ({
    workContent: work,
    materials: lines.map(lineBody),
    milestones,
    transport: transport ? { mode: transport, vehicle: vehicle.trim() || null } : null,
    eta: eta ? new Date(eta).getTime() : null,
    etaNote: etaNote.trim() || null,
    internalNote: internal.trim() || null,
  });
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      onDone();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  const addPart = () => {
    if (part.startsWith('r:')) {
      const r = data.reservations!.find((x) => x.id === Number(part.slice(2)));
      if (r)
        setLines([
          ...lines,
          { kind: 'part', reservationId: r.id, label: `${r.partNo} ${loc(r.name)} × ${r.qty} (${r.storeId})` },
        ]);
    } else if (part.startsWith('p:')) {
      const p = proposed.find((x) => x.partNo === part.slice(2));
      if (p?.storeId)
        setLines([
          ...lines,
          {
            kind: 'part',
            partNo: p.partNo,
            storeId: p.storeId,
            qty: p.qty,
            label: `${p.partNo} ${loc(p.name)} × ${p.qty} (${p.storeId})`,
          },
        ]);
    }
    setPart('');
  };

  return (
    <form
      class="support-plan-editor"
      data-testid="support-plan-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => api.put(`/api/tickets/${ticketId}/support-plan`, body()));
      }}
    >
      <h4>{data.draft ? t('plan.draftOf', { n: data.draft.version }) : t('plan.newDraft')}</h4>
      {err && (
        <div class="error" role="alert" data-testid="support-plan-error">
          {err}
        </div>
      )}
      <label>
        {t('plan.workContent')}
        <textarea
          rows={5}
          maxLength={8000}
          value={work}
          data-testid="plan-work"
          onInput={(e) => setWork(e.currentTarget.value)}
        />
      </label>
      <p class="muted">
        {t('plan.peopleFromTeam')}: {start.people.map((p) => `${role(p.role)} ${p.accountId}`).join(', ') || '—'}
      </p>
      <h4>{t('plan.materials')}</h4>
      <ul data-testid="plan-lines">
        {lines.map((l, i) => (
          <li key={i}>
            {t(`plan.kind.${l.kind}` as MessageKey)}: {l.label}{' '}
            <button type="button" onClick={() => setLines(lines.filter((_, j) => j !== i))}>
              {t('plan.remove')}
            </button>
          </li>
        ))}
      </ul>
      <div class="toolbar">
        <select
          value={part}
          data-testid="plan-part"
          onChange={(e) => setPart(e.currentTarget.value)}
          aria-label={t('plan.addPart')}
        >
          <option value="">{t('plan.addPart')}</option>
          {proposed
            .filter((p) => p.storeId)
            .map((p) => (
              <option key={p.partNo} value={`p:${p.partNo}`}>
                {t('plan.reserveFrom', { part: `${p.partNo} ${loc(p.name)} × ${p.qty}`, store: p.storeId! })}
              </option>
            ))}
          {held.map((r) => (
            <option key={r.id} value={`r:${r.id}`}>
              {t('plan.reserved', { part: `${r.partNo} ${loc(r.name)} × ${r.qty}`, store: r.storeId })}
            </option>
          ))}
        </select>
        <button type="button" data-testid="plan-add-part" disabled={!part} onClick={addPart}>
          {t('plan.add')}
        </button>
        <select
          value={tool}
          data-testid="plan-tool"
          onChange={(e) => setTool(e.currentTarget.value)}
          aria-label={t('plan.addTool')}
        >
          <option value="">{t('plan.addTool')}</option>
          {(tools.data?.tools ?? [])
            .filter((x) => x.status === 'available' && !lines.some((l) => l.kind === 'tool' && l.toolId === x.id))
            .map((x) => (
              <option key={x.id} value={String(x.id)}>
                {x.code} {getLang() === 'zh' ? (x.nameZh ?? x.name) : x.name}
              </option>
            ))}
        </select>
        <button
          type="button"
          disabled={!tool}
          onClick={() => {
            const x = tools.data?.tools.find((y) => y.id === Number(tool));
            if (x) setLines([...lines, { kind: 'tool', toolId: x.id, label: `${x.code} ${x.name}` }]);
            setTool('');
          }}
        >
          {t('plan.add')}
        </button>
      </div>
      <div class="toolbar">
        <input
          placeholder={t('plan.freeName')}
          maxLength={200}
          value={free.name}
          data-testid="plan-free-name"
          onInput={(e) => setFree({ ...free, name: e.currentTarget.value })}
        />
        <input
          placeholder={t('plan.qty')}
          inputMode="numeric"
          size={4}
          value={free.qty}
          onInput={(e) => setFree({ ...free, qty: e.currentTarget.value })}
        />
        <input
          placeholder={t('plan.unit')}
          size={4}
          maxLength={20}
          value={free.unit}
          onInput={(e) => setFree({ ...free, unit: e.currentTarget.value })}
        />
        <button
          type="button"
          disabled={!free.name.trim()}
          onClick={() => {
            const qty = Number(free.qty) > 0 ? Math.floor(Number(free.qty)) : null;
            setLines([
              ...lines,
              {
                kind: 'free',
                name: free.name.trim(),
                qty,
                unit: free.unit.trim() || null,
                label: `${free.name.trim()}${qty ? ` × ${qty}` : ''}`,
              },
            ]);
            setFree({ name: '', qty: '', unit: '' });
          }}
        >
          {t('plan.add')}
        </button>
      </div>
      <h4>{t('plan.schedule')}</h4>
      <ul data-testid="plan-milestones">
        {milestones.map((m, i) => (
          <li key={i}>
            {dateTime(m.at)} {m.label}{' '}
            <button type="button" onClick={() => setMilestones(milestones.filter((_, j) => j !== i))}>
              {t('plan.remove')}
            </button>
          </li>
        ))}
      </ul>
      <div class="toolbar">
        <DateTimeInput
          kind="datetime"
          aria-label={t('plan.milestoneAt')}
          name="milestone-at"
          value={msAt}
          onInput={(e) => setMsAt(e.currentTarget.value)}
        />
        <input
          placeholder={t('plan.milestoneLabel')}
          maxLength={200}
          value={msLabel}
          data-testid="plan-milestone-label"
          onInput={(e) => setMsLabel(e.currentTarget.value)}
        />
        <button
          type="button"
          data-testid="plan-add-milestone"
          disabled={!msLabel.trim() || !msAt}
          onClick={() => {
            const at = new Date(msAt).getTime();
            if (Number.isNaN(at)) return;
            setMilestones([...milestones, { at, label: msLabel.trim() }].sort((a, b) => a.at - b.at));
            setMsLabel('');
          }}
        >
          {t('plan.add')}
        </button>
      </div>
      <div class="toolbar">
        <label>
          {t('plan.transport')}{' '}
          <select value={transport} data-testid="plan-transport" onChange={(e) => setTransport(e.currentTarget.value)}>
            <option value="">—</option>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {mode(m)}
              </option>
            ))}
          </select>
        </label>
        <input
          placeholder={t('plan.vehicle')}
          maxLength={200}
          value={vehicle}
          data-testid="plan-vehicle"
          onInput={(e) => setVehicle(e.currentTarget.value)}
        />
      </div>
      <div class="toolbar">
        <label>
          {t('plan.eta')}{' '}
          <DateTimeInput kind="datetime" name="plan-eta" value={eta} onInput={(e) => setEta(e.currentTarget.value)} />
        </label>
        <input
          class="grow"
          placeholder={t('plan.etaNote')}
          maxLength={500}
          value={etaNote}
          onInput={(e) => setEtaNote(e.currentTarget.value)}
        />
      </div>
      <label>
        {t('plan.internalNote')}
        <input
          class="grow"
          maxLength={2000}
          value={internal}
          data-testid="plan-internal"
          onInput={(e) => setInternal(e.currentTarget.value)}
        />
      </label>
      <div class="toolbar">
        <button type="submit" disabled={busy} data-testid="plan-save">
          {t('plan.save')}
        </button>
        {data.draft && (
          <>
            {data.current && (
              <input
                class="grow"
                placeholder={t('plan.reasonHint')}
                maxLength={1000}
                value={reason}
                data-testid="plan-reason"
                onInput={(e) => setReason(e.currentTarget.value)}
              />
            )}
            <button
              type="button"
              class="primary"
              disabled={busy}
              data-testid="plan-issue"
              onClick={() =>
                void run(async () => {
                  // what is on screen is what is issued: save, then issue
                  await api.put(`/api/tickets/${ticketId}/support-plan`, body());
                  await api.post(
                    `/api/tickets/${ticketId}/support-plan/issue`,
                    reason.trim() ? { reason: reason.trim() } : {},
                  );
                  setReason('');
                })
              }
            >
              {data.current ? t('plan.reissue') : t('plan.issue')}
            </button>
          </>
        )}
      </div>
    </form>
  );
}

/**
 * The panel on the ticket page; `onChange` reloads the ticket (issuing moves its status and ETA);
 * `stamp` (the ticket's updatedAt) reloads the plan when the ticket changed elsewhere (a live update:
 * another desk issued it). The draft being edited stays unless its version or draft time changed.
 */
export function SupportPlanPanel({
  ticketId,
  stamp,
  onChange,
}: {
  ticketId: number;
  stamp?: number;
  onChange?: () => void;
}) {
  useLang();
  const r = me().role;
  const desk = r === 'admin' || r === 'dispatcher';
  const data = useLoad(() => api.get<PlanAnswer>(`/api/tickets/${ticketId}/support-plan`), [ticketId, stamp]);
  const d = data.data;
  if (!d) return <ErrorBox error={data.error} />;
  if (r === 'customer' && !d.current) return null;
  return (
    <section class="card" data-testid="support-plan">
      <h3>{t('plan.title')}</h3>
      {d.current ? <IssuedPlan plan={d.current} ticketId={ticketId} /> : <p class="muted">{t('plan.none')}</p>}
      {d.versions && <Versions versions={d.versions} />}
      {desk && d.template && (
        <Editor
          key={`${d.draft?.version ?? 0}-${d.draft?.draftedAt ?? 0}-${d.current?.version ?? 0}`}
          ticketId={ticketId}
          data={d}
          onDone={() => {
            data.reload();
            onChange?.();
          }}
        />
      )}
    </section>
  );
}
