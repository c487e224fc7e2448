import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Agent, TestWeb } from './helpers.ts';

/**
 * Issues the ticket's support plan as the duty desk does now (the note-only `issue_plan` step is
 * refused): a draft with the work content only, then issue. Returns the issue answer ({ticket, version}).
 */
export async function issuePlan(
  desk: Agent,
  ticketId: number,
  workContent = 'Swap the inverter fuse',
): Promise<LightMyRequestResponse> {
  const draft = await desk.request('PUT', `/api/tickets/${ticketId}/support-plan`, {
    workContent,
    materials: [],
    milestones: [],
    transport: null,
    eta: null,
  });
  expect(draft.statusCode, draft.body).toBe(200);
  return desk.post(`/api/tickets/${ticketId}/support-plan/issue`, {});
}

/** Gives a fresh ticket an issued support plan through the services (for the route matrices' forms). */
export async function withIssuedPlan(w: Pick<TestWeb, 'tickets' | 'supportPlans'>, ticketId: number): Promise<void> {
  await w.tickets.transition(ticketId, 'determine_work_content', 'dispatcher');
  await w.supportPlans.saveDraft(
    ticketId,
    { workContent: 'Swap the inverter fuse', materials: [], milestones: [], transport: null, eta: null },
    'dispatcher',
  );
  await w.supportPlans.issue(ticketId, 'dispatcher', null);
}
