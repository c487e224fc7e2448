/**
 * The editor of a team (members with role and duty) that tickets' response teams and service orders'
 * teams (应急保障分队) share: one row per member, a staff account, a role, a duty; add, remove, save.
 * Its test ids start with `testid` (`<testid>-editor`, `-row`, `-add`, `-save`).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { t, type MessageKey } from '../i18n.ts';
import type { StaffMember } from '../types.ts';

export interface TeamRow {
  accountId: string;
  role: string;
  duty: string;
}

export const teamRoleLabel = (r: string) => t(`team.role.${r}` as MessageKey);

/** The rows as the team APIs take them: members with an account, the duty only when given. */
export const teamMembers = (rows: TeamRow[]) =>
  rows
    .filter((r) => r.accountId)
    .map((r) => ({ accountId: r.accountId, role: r.role, ...(r.duty.trim() ? { duty: r.duty.trim() } : {}) }));

/**
 * The editor's state: the rows (reset when the saved team changes), the staff accounts to pick from
 * (loaded when `editable`), and saving the rows with PUT `url`.
 */
export function useTeamEditor(
  url: string,
  team: { accountId: string; role: string; duty: string | null }[],
  editable: boolean,
  onSaved: () => void,
) {
  const toRows = () => team.map((m) => ({ accountId: m.accountId, role: m.role, duty: m.duty ?? '' }));
  const [rows, setRows] = useState<TeamRow[]>(toRows);
  useEffect(() => setRows(toRows()), [JSON.stringify(team)]);
  const [accounts, setAccounts] = useState<StaffMember[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (editable)
      api.get<{ staff: StaffMember[] }>('/api/staff').then(
        (r) => setAccounts(r.staff),
        (x) => setError(errorText(x)),
      );
  }, [editable]);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.put(url, { members: teamMembers(rows) });
      onSaved();
    } catch (x) {
      setError(errorText(x));
    } finally {
      setBusy(false);
    }
  };
  return { rows, setRows, accounts, error, busy, onSubmit };
}

export function TeamEditor(props: {
  testid: string;
  rows: TeamRow[];
  setRows: (rows: TeamRow[]) => void;
  accounts: StaffMember[];
  roles: readonly string[];
  busy: boolean;
  error: string | null;
  onAdd: () => void;
  onSubmit: (e: Event) => void;
}) {
  const { rows, setRows, accounts, testid } = props;
  const set = (i: number, k: keyof TeamRow, v: string) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return (
    <form class="form" data-testid={`${testid}-editor`} onSubmit={props.onSubmit}>
      {rows.map((r, i) => (
        <div class="toolbar" key={i} data-testid={`${testid}-row`}>
          <select name="member" value={r.accountId} onChange={(e) => set(i, 'accountId', e.currentTarget.value)}>
            <option value="">—</option>
            {!accounts.some((a) => a.id === r.accountId) && r.accountId && (
              <option value={r.accountId}>{r.accountId}</option>
            )}
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({a.id})
              </option>
            ))}
          </select>
          <select name="team-role" value={r.role} onChange={(e) => set(i, 'role', e.currentTarget.value)}>
            {props.roles.map((x) => (
              <option key={x} value={x}>
                {teamRoleLabel(x)}
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
          <button type="button" aria-label="✕" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <div class="toolbar">
        <button type="button" data-testid={`${testid}-add`} onClick={props.onAdd}>
          {t('orders.addMember')}
        </button>
        <button type="submit" class="primary" disabled={props.busy} data-testid={`${testid}-save`}>
          {t('orders.saveTeam')}
        </button>
      </div>
      {props.error && (
        <div class="error" role="alert">
          {props.error}
        </div>
      )}
    </form>
  );
}
