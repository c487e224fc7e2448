/**
 * The team a service order sends (应急保障分队): members with role and duty, like a ticket's
 * response team. Everyone of the unit sees it (public names for a customer); the duty desk edits it.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { personName, t, type MessageKey } from '../i18n.ts';
import type { StaffMember } from '../types.ts';

export interface OrderTeamMember {
  accountId: string;
  role: string;
  duty: string | null;
  name: string;
}

const ROLES = ['leader', 'technician', 'customer_service', 'admin_support'] as const;
const roleLabel = (r: string) => t(`team.role.${r}` as MessageKey);

export function OrderTeam(props: { orderId: number; team: OrderTeamMember[]; editable: boolean; onSaved: () => void }) {
  const [rows, setRows] = useState(
    props.team.map((m) => ({ accountId: m.accountId, role: m.role, duty: m.duty ?? '' })),
  );
  const [staff, setStaff] = useState<StaffMember[]>([]);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (props.editable)
      api.get<{ staff: StaffMember[] }>('/api/staff').then(
        (r) => setStaff(r.staff),
        (x) => setErr(errorText(x)),
      );
  }, [props.editable]);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await api.put(`/api/service-orders/${props.orderId}/team`, {
        members: rows
          .filter((r) => r.accountId)
          .map((r) => ({ accountId: r.accountId, role: r.role, ...(r.duty.trim() ? { duty: r.duty.trim() } : {}) })),
      });
      props.onSaved();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  const set = (i: number, k: 'accountId' | 'role' | 'duty', v: string) =>
    setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return (
    <section class="card" data-testid="order-team-members">
      <h3>{t('orders.teamMembers')}</h3>
      {props.team.length === 0 ? (
        <p class="muted">{t('orders.noTeam')}</p>
      ) : (
        <ul>
          {props.team.map((m) => (
            <li key={m.accountId + m.role} data-role={m.role}>
              <b>{personName(m.name)}</b> · {roleLabel(m.role)}
              {m.duty && <span class="muted"> · {m.duty}</span>}
            </li>
          ))}
        </ul>
      )}
      {props.editable && (
        <form class="form" data-testid="order-team-editor" onSubmit={save}>
          {rows.map((r, i) => (
            <div class="toolbar" key={i} data-testid="order-team-row">
              <select name="member" value={r.accountId} onChange={(e) => set(i, 'accountId', e.currentTarget.value)}>
                <option value="">—</option>
                {staff.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name} ({s.id})
                  </option>
                ))}
              </select>
              <select name="team-role" value={r.role} onChange={(e) => set(i, 'role', e.currentTarget.value)}>
                {ROLES.map((x) => (
                  <option key={x} value={x}>
                    {roleLabel(x)}
                  </option>
                ))}
              </select>
              <input
                class="grow"
                name="duty"
                maxLength={300}
                placeholder={t('orders.duty')}
                value={r.duty}
                onInput={(e) => set(i, 'duty', e.currentTarget.value)}
              />
              <button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                ✕
              </button>
            </div>
          ))}
          <div class="toolbar">
            <button
              type="button"
              data-testid="order-team-add"
              onClick={() =>
                setRows([...rows, { accountId: '', role: rows.length ? 'technician' : 'leader', duty: '' }])
              }
            >
              {t('orders.addMember')}
            </button>
            <button type="submit" class="primary" disabled={busy} data-testid="order-team-save">
              {t('orders.saveTeam')}
            </button>
          </div>
          {err && (
            <div class="error" role="alert">
              {err}
            </div>
          )}
        </form>
      )}
    </section>
  );
}
