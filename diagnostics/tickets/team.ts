import type { RecordsDb } from '../../records/db.ts';

/**
 * The response team (应急响应小组) of a ticket instead of one assignee: led by the leader (组长, the
 * service point's head), with technicians (维修技师), customer service (客服) and admin support
 * (行政支持), each with an explicit duty (site survey, diagnosis, repair, customer contact); and for
 * 特急 tasks the command post (应急指挥部): commander (总指挥) and deputy commanders (副总指挥).
 * The leader is the ticket's `assignee` (kept for everything that pages or filters by it).
 */
export const TEAM_ROLES = [
  'leader',
  'technician',
  'customer_service',
  'admin_support',
  'commander',
  'deputy_commander',
] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];
/** The command post's roles: on 特急 tickets only. */
export const COMMAND_POST_ROLES: readonly TeamRole[] = ['commander', 'deputy_commander'];

export const TEAM_ROLE_LABELS: Record<TeamRole, { en: string; zh: string }> = {
  leader: { en: 'Leader', zh: '组长' },
  technician: { en: 'Technician', zh: '维修技师' },
  customer_service: { en: 'Customer service', zh: '客服' },
  admin_support: { en: 'Admin support', zh: '行政支持' },
  commander: { en: 'Commander', zh: '总指挥' },
  deputy_commander: { en: 'Deputy commander', zh: '副总指挥' },
};

export interface TeamMember {
  accountId: string;
  role: TeamRole;
  /** The member's duty on this task (现场勘查, 故障排查, 维修操作, 客户沟通, …). */
  duty: string | null;
}

export async function teamOf(h: RecordsDb, ticketId: number): Promise<TeamMember[]> {
  const rows = await h
    .selectFrom('ticket_team_members')
    .select(['account_id', 'team_role', 'duty'])
    .where('ticket_id', '=', ticketId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ accountId: r.account_id, role: r.team_role as TeamRole, duty: r.duty }));
}

/** Replaces the team (call inside the change's transaction). */
export async function writeTeam(h: RecordsDb, ticketId: number, members: TeamMember[]): Promise<void> {
  await h.deleteFrom('ticket_team_members').where('ticket_id', '=', ticketId).execute();
  if (members.length)
    await h
      .insertInto('ticket_team_members')
      .values(members.map((m) => ({ ticket_id: ticketId, account_id: m.accountId, team_role: m.role, duty: m.duty })))
      .execute();
}

/** The team with `leader` as its leader (the old single assignment): other members stay. */
export const withLeader = (team: TeamMember[], leader: string): TeamMember[] => {
  const old = team.find((m) => m.role === 'leader');
  return [
    { accountId: leader, role: 'leader', duty: old?.accountId === leader ? old.duty : null },
    ...team.filter((m) => m.role !== 'leader'),
  ];
};
