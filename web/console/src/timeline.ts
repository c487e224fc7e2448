/**
 * A ticket's timeline entry in the console's language. The platform records each entry's action as
 * a code (`assigned`, `deadline_breached`, `paged_at_risk`, …) and, for some, a note in a fixed
 * English form ("assigned to eng", "escalated to duty-lead", an ISO time for an ETA); those are
 * shown here in words of the current language, with names and times as the console shows them.
 * Notes people wrote (comments, transition notes) are shown as they are.
 */
import { dateTime } from './format.ts';
import { loc, personName, t, type MessageKey } from './i18n.ts';
import type { Meta } from './session.ts';

interface Entry {
  action: string;
  note: string | null;
}

/** The dictionary key of an action's words (every page, `paged_<reason>`, is "paged"). */
export const timelineActionKey = (action: string) =>
  `timeline.${action.startsWith('paged_') ? 'paged' : action}` as MessageKey;

/** The entry's action in words ("assigned" → 已指派); an unknown code as it is, spaced. */
export function timelineAction(action: string): string {
  const key = timelineActionKey(action);
  const s = t(key);
  return s === key ? action.replace(/_/g, ' ') : s;
}

/** Notes of the form "<prefix><person>", written by the platform. */
const NAMED: [prefix: string, key: MessageKey][] = [
  ['assigned to ', 'timeline.note.assignedTo'],
  ['escalated to ', 'timeline.note.escalatedTo'],
  ['page escalated to ', 'timeline.note.escalatedTo'],
  ['paged ', 'timeline.note.paged'],
  ['page acknowledged by ', 'timeline.note.ackedBy'],
];

const FIXED: Record<string, MessageKey> = {
  'work content not determined within 30 min': 'timeline.note.workContentLate',
  'support plan not issued within 30 min': 'timeline.note.planLate',
};

/** A level raise's reason: "<fault code> <English title>" from the rules, else as written. */
function reason(text: string, faults: Meta['faults']): string {
  const code = text.split(' ')[0]!;
  return faults[code] ? `${code} ${loc(faults[code])}` : text;
}

/** The details of a service-mode step ("carrier: SF; tracking: SF1"), or the step a confirmation names. */
const STEP_FIELDS = [
  'transport',
  'plannedAt',
  'eta',
  'result',
  'item',
  'method',
  'carrier',
  'tracking',
  'count',
  'unitKind',
  'serial',
  'originalSerial',
  'attendees',
];
const STEP_FIELD_SPLIT = new RegExp(`; (?=(?:${STEP_FIELDS.join('|')}): )`);
function stepNote(action: string, note: string): string {
  if (action === 'step_confirmed') {
    const m = /^(\w+)(?:: ([\s\S]*))?$/.exec(note);
    const label = m ? t(`modeStep.${m[1]}` as MessageKey) : note;
    return m && label !== `modeStep.${m[1]}` ? `${label}${m[2] ? `: ${m[2]}` : ''}` : note;
  }
  return note
    .split(STEP_FIELD_SPLIT)
    .map((part) => {
      const m = /^(\w+): ([\s\S]*)$/.exec(part);
      if (!m || !STEP_FIELDS.includes(m[1]!)) return part;
      const [, k, v] = m as unknown as [string, string, string];
      const value =
        k === 'plannedAt' || k === 'eta'
          ? dateTime(Date.parse(v))
          : k === 'method' || k === 'unitKind'
            ? t(`modeStep.value.${v}` as MessageKey)
            : v;
      return `${t(`modeStep.field.${k}` as MessageKey)}: ${value}`;
    })
    .join('; ');
}

/** The entry's note in the console's language where the platform wrote it, else as written. */
export function timelineNote(e: Entry, meta: Pick<Meta, 'serviceModes' | 'ticketLevels' | 'faults'>): string | null {
  const note = e.note;
  if (note === null || note === '') return note;
  if (e.action === 'comment' || e.action === 'received') return note;
  const fixed = FIXED[note];
  if (fixed) return t(fixed);
  for (const [prefix, key] of NAMED)
    if (note.startsWith(prefix)) return t(key, { who: personName(note.slice(prefix.length)) });
  if (e.action === 'service_mode_set') return meta.serviceModes[note] ? loc(meta.serviceModes[note]) : note;
  if (e.action.startsWith('step_')) return stepNote(e.action, note);
  if (e.action === 'eta_set') {
    // "2026-12-03T17:37:00.000Z" then the engineer's words, if any
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\s?([\s\S]*)$/.exec(note);
    if (m) return `${dateTime(Date.parse(m[1]!))}${m[2] ? ` ${m[2]}` : ''}`;
  }
  if (e.action === 'merged' || e.action === 'merged_in') {
    // "merged into T-2026-0042: duplicate", "T-2026-0041 merged into this ticket: duplicate"
    const m =
      e.action === 'merged'
        ? /^merged into (\S+)(: [\s\S]*)?$/.exec(note)
        : /^(\S+) merged into this ticket(: [\s\S]*)?$/.exec(note);
    if (m)
      return `${t(e.action === 'merged' ? 'timeline.note.mergedInto' : 'timeline.note.mergedIn', { number: m[1]! })}${m[2] ?? ''}`;
  }
  if (e.action === 'alarms_override') {
    // "close with active alarms GEN-START-FAIL (#12): generator replaced, alarm stale"
    const m = /^(\w+) with active alarms (.+?)(: [\s\S]*)?$/.exec(note);
    if (m) {
      const action = t(`action.${m[1]}` as MessageKey);
      return `${t('timeline.note.alarmsOverride', { action: action === `action.${m[1]}` ? m[1]! : action, alarms: m[2]! })}${m[3] ?? ''}`;
    }
  }
  if (e.action === 'level_raised') {
    // "urgent → extra_urgent: GEN-START-FAIL Generator not running"
    const m = /^(\w+) → (\w+)(?:: ([\s\S]*))?$/.exec(note);
    if (m) {
      const level = (l: string) => (meta.ticketLevels[l] ? loc(meta.ticketLevels[l]) : l);
      return `${level(m[1]!)} → ${level(m[2]!)}${m[3] ? `: ${reason(m[3], meta.faults)}` : ''}`;
    }
  }
  return note;
}
