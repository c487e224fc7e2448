/**
 * The team a service order sends (应急保障分队): members with role and duty, like a ticket's
 * response team. Everyone of the unit sees it (public names for a customer); the duty desk edits it.
 */
import { personName, t } from '../i18n.ts';
import { TeamEditor, teamRoleLabel, useTeamEditor } from './team-editor.tsx';

export interface OrderTeamMember {
  accountId: string;
  role: string;
  duty: string | null;
  name: string;
}

const ROLES = ['leader', 'technician', 'customer_service', 'admin_support'] as const;

export function OrderTeam(props: { orderId: number; team: OrderTeamMember[]; editable: boolean; onSaved: () => void }) {
  const editor = useTeamEditor(`/api/service-orders/${props.orderId}/team`, props.team, props.editable, props.onSaved);
  const { rows, setRows } = editor;
  return (
    <section class="card" data-testid="order-team-members">
      <h3>{t('orders.teamMembers')}</h3>
      {props.team.length === 0 ? (
        <p class="muted">{t('orders.noTeam')}</p>
      ) : (
        <ul>
          {props.team.map((m) => (
            <li key={m.accountId + m.role} data-role={m.role}>
              <b>{personName(m.name)}</b> · {teamRoleLabel(m.role)}
              {m.duty && <span class="muted"> · {m.duty}</span>}
            </li>
          ))}
        </ul>
      )}
      {props.editable && (
        <TeamEditor
          testid="order-team"
          {...editor}
          roles={ROLES}
          onAdd={() => setRows([...rows, { accountId: '', role: rows.length ? 'technician' : 'leader', duty: '' }])}
        />
      )}
    </section>
  );
}
