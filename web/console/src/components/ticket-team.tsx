/**
 * A ticket's response team (应急响应小组) and, for 特急, the command post: the members with role and
 * duty (everyone who sees the ticket), the suggestion of qualified, available people for its fault
 * (GET /api/tickets/{id}/team-suggestion: staff) and the editor that sets the team (PUT
 * /api/tickets/{id}/team: the duty desk). A suggested person with a staff account is added with one
 * click; anyone else from the staff list by hand.
 */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { personName, t, useLang, type MessageKey } from '../i18n.ts';
import { isStaff, me } from '../session.ts';
import type { TicketDetail } from '../types.ts';
import { TeamEditor, teamRoleLabel as roleLabel, useTeamEditor } from './team-editor.tsx';

type Member = TicketDetail['team'][number];

interface Person {
  id: string;
  name: string;
  department: string;
  accountId: string | null;
  available: boolean;
  availabilityNote: string | null;
  qualifications: { skill: string; certificate: string | null; expiresAt: number | null; valid: boolean }[];
}
interface Suggestion {
  skill: string;
  suggested: Person[];
  unavailable: Person[];
}

const ROLES = ['leader', 'technician', 'customer_service', 'admin_support', 'commander', 'deputy_commander'] as const;
const skillLabel = (s: string) => t(`res.skill.${s}` as MessageKey);

export function TicketTeam(props: { ticketId: number; team: Member[]; extraUrgent: boolean; onSaved: () => void }) {
  useLang();
  const role = me().role;
  const staff = isStaff(role);
  if (!staff && props.team.length === 0) return null;
  return (
    <section class="card" data-testid="ticket-team">
      <h3>{t('ticket.team')}</h3>
      {props.team.length === 0 ? (
        <p class="muted">{t('team.none')}</p>
      ) : (
        <ul>
          {props.team.map((m, i) => (
            <li key={i} data-role={m.role} data-account={m.accountId}>
              <b>{roleLabel(m.role)}</b> {personName(m.accountId)}
              {m.duty ? ` — ${m.duty}` : ''}
            </li>
          ))}
        </ul>
      )}
      {staff && <TeamSuggestion {...props} editable={role === 'admin' || role === 'dispatcher'} />}
    </section>
  );
}

function TeamSuggestion(props: {
  ticketId: number;
  team: Member[];
  extraUrgent: boolean;
  editable: boolean;
  onSaved: () => void;
}) {
  const [skill, setSkill] = useState('');
  const s = useLoad(
    () => api.get<Suggestion>(`/api/tickets/${props.ticketId}/team-suggestion`, skill ? { skill } : {}),
    [props.ticketId, skill],
  );
  const editor = useTeamEditor(`/api/tickets/${props.ticketId}/team`, props.team, props.editable, props.onSaved);
  const { rows, setRows } = editor;
  const add = (accountId: string, duty = '') =>
    setRows([...rows, { accountId, role: rows.some((r) => r.role === 'leader') ? 'technician' : 'leader', duty }]);
  const d = s.data;
  const inTeam = new Set(rows.map((r) => r.accountId));
  const person = (p: Person, available: boolean) => {
    const q = p.qualifications.find((x) => d && x.skill === d.skill && x.valid);
    return (
      <tr key={p.id} data-person={p.id} data-available={available ? 'yes' : 'no'}>
        <td>
          <b>{p.name}</b> <span class="muted">({p.id})</span>
        </td>
        <td>{t(`res.dept.${p.department}` as MessageKey)}</td>
        <td>
          {d ? skillLabel(d.skill) : ''}
          {q?.certificate ? ` · ${q.certificate}` : ''}
        </td>
        <td>{q?.expiresAt ? dateTime(q.expiresAt) : t('team.noExpiry')}</td>
        <td>
          {available ? t('res.yes') : t('res.no')}
          {p.availabilityNote ? ` — ${p.availabilityNote}` : ''}
        </td>
        <td class="muted">
          {available
            ? t('team.why', { skill: d ? skillLabel(d.skill) : '' })
            : t('team.whyNot', { skill: d ? skillLabel(d.skill) : '' })}
        </td>
        <td class="actions">
          {props.editable &&
            (p.accountId ? (
              <button
                type="button"
                data-testid="team-pick"
                disabled={inTeam.has(p.accountId)}
                onClick={() => add(p.accountId!, d ? skillLabel(d.skill) : '')}
              >
                {inTeam.has(p.accountId) ? t('team.picked') : t('team.pick')}
              </button>
            ) : (
              <span class="muted">{t('team.noAccount')}</span>
            ))}
        </td>
      </tr>
    );
  };
  return (
    <div data-testid="team-suggestion">
      <h4>
        {t('team.suggestion')}{' '}
        <select
          name="team-skill"
          aria-label={t('res.skills')}
          value={skill || d?.skill || ''}
          onChange={(e) => setSkill(e.currentTarget.value)}
        >
          {(
            [
              'generator_set',
              'power_electronics',
              'battery',
              'chassis',
              'electrical',
              'telematics',
              'towing_recovery',
            ] as const
          ).map((k) => (
            <option key={k} value={k}>
              {skillLabel(k)}
            </option>
          ))}
        </select>
      </h4>
      {s.error !== undefined && <div class="error">{errorText(s.error)}</div>}
      {d &&
        (d.suggested.length + d.unavailable.length === 0 ? (
          <p class="muted">{t('team.nobody', { skill: skillLabel(d.skill) })}</p>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>{t('res.name')}</th>
                <th>{t('res.department')}</th>
                <th>{t('team.skillMatched')}</th>
                <th>{t('team.expires')}</th>
                <th>{t('res.available')}</th>
                <th>{t('team.whyCol')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {d.suggested.map((p) => person(p, true))}
              {d.unavailable.map((p) => person(p, false))}
            </tbody>
          </table>
        ))}
      {props.editable && (
        <TeamEditor
          testid="ticket-team"
          {...editor}
          roles={ROLES.filter((x) => props.extraUrgent || (x !== 'commander' && x !== 'deputy_commander'))}
          onAdd={() => add('')}
        />
      )}
    </div>
  );
}
