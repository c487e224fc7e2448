import type { RingStep } from './records.ts';
import type { DutyShift } from './roster.ts';

/** The ladder: primary → secondary → duty lead, then the duty lead again. */
export const NEXT_RING: Record<RingStep, RingStep> = {
  primary: 'secondary',
  secondary: 'duty_lead',
  duty_lead: 'duty_lead',
};

/** What a ring entry on the timeline says (followed by the names rung). */
export const RING_TEXT: Record<RingStep, string> = {
  primary: 'ringing the engineer on duty',
  secondary: 'no answer: ringing the secondary engineer on duty',
  duty_lead: 'ringing the duty lead',
};

/**
 * Whom a step rings, given the shift on duty (or none): no shift → the configured duty lead at
 * once (7×24: nobody is unreachable by design); a shift without a secondary goes on to its duty lead.
 */
export function ringTargets(
  wanted: RingStep,
  shift: DutyShift | undefined,
  fallbackLead: string,
): { step: RingStep; accounts: string[] } {
  if (!shift) return { step: 'duty_lead', accounts: [fallbackLead] };
  if (wanted === 'primary') return { step: wanted, accounts: [shift.primary] };
  if (wanted === 'secondary' && shift.secondary) return { step: wanted, accounts: [shift.secondary] };
  return { step: 'duty_lead', accounts: [shift.dutyLead] };
}
