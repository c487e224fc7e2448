import type { OrderRecord, PartLine, Finding, SignOff } from '../diagnostics/service-orders/order-records.ts';
import type { ServiceOrder, ServiceOrderEvent } from '../diagnostics/service-orders/orders.ts';
import type { TeamRole } from '../diagnostics/tickets/team.ts';

/**
 * The model of a service order's report (《巡检巡修服务报告》, 《技术培训服务报告》, 《伴随保障服务报告》):
 * built purely from the order's records as the customer side may see them (people by public names,
 * no internal notes), the same for both sides. Each kind's layout is its own file
 * (patrol-report-layout.ts, training-report-layout.ts, accompanying-report-layout.ts).
 */
export interface OrderReportSources {
  /** requestedBy and signOff.by by public name. */
  order: ServiceOrder;
  unit: { id: string; name: string | null };
  vehicles: Record<string, { id: string; name: string | null; model: string | null }>;
  team: { name: string; role: TeamRole; duty: string | null }[];
  /** Actors by public name, internal notes left out. */
  records: OrderRecord[];
  /** Actors by public name. */
  events: ServiceOrderEvent[];
  generatedAt: number;
}

export interface ReportVisit {
  id: number;
  by: string;
  at: number;
  /** "name (id)" of the vehicle, or the equipment named. */
  what: string;
  model: string | null;
  stateFound: string;
  readings: string;
  findings: Finding[];
  workDone: string;
  parts: PartLine[];
}

export interface ReportAttendee {
  id: number;
  name: string;
  unit: string;
  role: string;
  /** The latest assessment of the attendee, if any. */
  assessment: { score: number | null; passed: boolean; note: string | null } | null;
}

export interface OrderReport {
  order: ServiceOrder;
  unit: { id: string; name: string | null };
  team: OrderReportSources['team'];
  startedAt: number | null;
  completedAt: number | null;
  visits: ReportVisit[];
  materials: { title: string; note: string | null }[];
  attendees: ReportAttendee[];
  sessions: { at: number; hours: number | null; topic: string; trainer: string; place: string | null }[];
  logs: { at: number; by: string; text: string }[];
  /** Our side: who completed the order, when; the user side: its sign-off. */
  signOff: { staff: { name: string; at: number } | null; customer: SignOff | null };
  /** Everyone of our side who took part: the team and who recorded or completed. */
  staffPeople: string[];
  /** The user side: the requester, the contacts, the attendees' units' people who signed. */
  customerPeople: string[];
  generatedAt: number;
}

const lastEvent = (events: ServiceOrderEvent[], action: string) => events.filter((e) => e.action === action).at(-1);

export function buildOrderReport(s: OrderReportSources): OrderReport {
  const o = s.order;
  const started = lastEvent(s.events, 'start');
  const completed = o.status === 'done' ? lastEvent(s.events, 'complete') : undefined;
  const visits: ReportVisit[] = [];
  const attendees: ReportAttendee[] = [];
  const assessments = new Map<number, ReportAttendee['assessment']>();
  const out: Omit<OrderReport, 'visits' | 'attendees'> = {
    order: o,
    unit: s.unit,
    team: s.team,
    startedAt: started?.at ?? null,
    completedAt: completed?.at ?? null,
    materials: [],
    sessions: [],
    logs: [],
    signOff: { staff: completed ? { name: completed.actor, at: completed.at } : null, customer: o.signOff },
    staffPeople: [],
    customerPeople: [],
    generatedAt: s.generatedAt,
  };
  for (const r of s.records) {
    const b = r.body;
    switch (b.type) {
      case 'visit': {
        const v = b.vehicleId ? s.vehicles[b.vehicleId] : undefined;
        visits.push({
          id: r.id,
          by: r.actor,
          at: b.at,
          what: b.vehicleId ? (v?.name ? `${v.name} (${b.vehicleId})` : b.vehicleId) : b.equipment,
          model: v?.model ?? null,
          stateFound: b.stateFound,
          readings: b.readings,
          findings: b.findings,
          workDone: b.workDone,
          parts: b.parts,
        });
        break;
      }
      case 'material':
        out.materials.push({ title: b.title, note: b.note });
        break;
      case 'attendee':
        attendees.push({ id: r.id, name: b.name, unit: b.unit, role: b.role, assessment: null });
        break;
      case 'session':
        out.sessions.push({ at: b.at, hours: b.hours, topic: b.topic, trainer: b.trainer, place: b.place });
        break;
      case 'assessment':
        assessments.set(b.attendeeId, { score: b.score, passed: b.passed, note: b.note });
        break;
      case 'log':
        out.logs.push({ at: b.at, by: r.actor, text: b.text });
        break;
    }
  }
  visits.sort((a, b) => a.at - b.at || a.id - b.id);
  out.sessions.sort((a, b) => a.at - b.at);
  out.logs.sort((a, b) => a.at - b.at);
  for (const a of attendees) a.assessment = assessments.get(a.id) ?? null;
  const staff = new Set(s.team.map((m) => m.name));
  for (const r of s.records) staff.add(r.actor);
  if (completed) staff.add(completed.actor);
  const customer = new Set<string>();
  for (const c of o.contacts) customer.add([c.name, c.role].filter(Boolean).join(' · '));
  if (o.signOff) customer.add(o.signOff.name);
  return {
    ...out,
    visits,
    attendees,
    staffPeople: [...staff],
    customerPeople: [...customer],
  };
}
