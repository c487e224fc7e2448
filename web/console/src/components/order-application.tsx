/**
 * The application of each kind of service order (申请内容): 巡检巡修 equipment and tools; 技术培训
 * teaching unit, training items and materials; 伴随保障 task source, supported unit, equipment,
 * assembly time and place, and the duty's start and end.
 */
import { Fact } from './fact.tsx';
import { DateTimeInput } from './date-input.tsx';
import { dateTime } from '../format.ts';
import { t } from '../i18n.ts';
import type { ServiceOrder } from '../types.ts';

export const BLANK_APPLICATION = {
  equipment: '',
  tools: '',
  teachingUnit: '',
  topics: '',
  materials: '',
  taskSource: '',
  supportedUnit: '',
  assemblyAt: '',
  assemblyPlace: '',
  start: '',
  end: '',
};
export type ApplicationForm = typeof BLANK_APPLICATION;

const list = (s: string) =>
  s
    .split(/[\n,，、;；]/)
    .map((x) => x.trim())
    .filter(Boolean);

const FIELDS: Record<string, (keyof ApplicationForm)[]> = {
  patrol_inspection: ['equipment', 'tools'],
  training: ['teachingUnit', 'topics', 'materials'],
  accompanying_support: ['taskSource', 'supportedUnit', 'equipment', 'assemblyAt', 'assemblyPlace', 'start', 'end'],
};

/** The body's `application` for the kind (what the form holds); none when its fields are all empty. */
export function applicationBody(kind: string, a: ApplicationForm): object | undefined {
  if ((FIELDS[kind] ?? []).every((k) => !a[k].trim())) return undefined;
  if (kind === 'patrol_inspection') return { kind, equipment: list(a.equipment), tools: a.tools };
  if (kind === 'training')
    return { kind, teachingUnit: a.teachingUnit, topics: list(a.topics), materials: a.materials };
  return {
    kind,
    taskSource: a.taskSource,
    supportedUnit: a.supportedUnit,
    equipment: a.equipment,
    assemblyAt: new Date(a.assemblyAt).getTime(),
    assemblyPlace: a.assemblyPlace,
    start: new Date(a.start).getTime(),
    end: new Date(a.end).getTime(),
  };
}

export function OrderApplicationFields(props: {
  kind: string;
  value: ApplicationForm;
  onChange: (v: ApplicationForm) => void;
}) {
  const a = props.value;
  const set = (k: keyof ApplicationForm) => (e: { currentTarget: { value: string } }) =>
    props.onChange({ ...a, [k]: e.currentTarget.value });
  const field = (k: keyof ApplicationForm, label: string, max: number, area = false) => (
    <label key={k}>
      {label}
      {area ? (
        <textarea name={`app-${k}`} maxLength={max} value={a[k]} onInput={set(k)} />
      ) : (
        <input name={`app-${k}`} maxLength={max} value={a[k]} onInput={set(k)} />
      )}
    </label>
  );
  const when = (k: 'assemblyAt' | 'start' | 'end', label: string) => (
    <label key={k}>
      {label}
      <DateTimeInput kind="datetime" name={`app-${k}`} value={a[k]} onInput={set(k)} />
    </label>
  );
  if (props.kind === 'patrol_inspection')
    return (
      <fieldset data-testid="order-application">
        {field('equipment', t('orders.app.equipmentList'), 2000, true)}
        {field('tools', t('orders.app.tools'), 2000)}
      </fieldset>
    );
  if (props.kind === 'training')
    return (
      <fieldset data-testid="order-application">
        {field('teachingUnit', t('orders.app.teachingUnit'), 200)}
        {field('topics', t('orders.app.topics'), 2000, true)}
        {field('materials', t('orders.app.materials'), 2000)}
      </fieldset>
    );
  return (
    <fieldset data-testid="order-application">
      {field('taskSource', t('orders.app.taskSource'), 300)}
      {field('supportedUnit', t('orders.app.supportedUnit'), 200)}
      {field('equipment', t('orders.app.equipment'), 1000)}
      {when('assemblyAt', t('orders.app.assemblyAt'))}
      {field('assemblyPlace', t('orders.app.assemblyPlace'), 300)}
      {when('start', t('orders.app.start'))}
      {when('end', t('orders.app.end'))}
    </fieldset>
  );
}

export function OrderApplicationFacts({ order }: { order: ServiceOrder }) {
  const a = order.application;
  if (!a) return null;
  return (
    <div class="facts card" data-testid="order-application-facts">
      {a.kind === 'patrol_inspection' && (
        <>
          <Fact label={t('orders.app.equipmentList')}>{a.equipment.join(', ')}</Fact>
          <Fact label={t('orders.app.tools')}>{a.tools}</Fact>
        </>
      )}
      {a.kind === 'training' && (
        <>
          <Fact label={t('orders.app.teachingUnit')}>{a.teachingUnit}</Fact>
          <Fact label={t('orders.app.topics')}>{a.topics.join('; ')}</Fact>
          <Fact label={t('orders.app.materials')}>{a.materials}</Fact>
        </>
      )}
      {a.kind === 'accompanying_support' && (
        <>
          <Fact label={t('orders.app.taskSource')}>{a.taskSource}</Fact>
          <Fact label={t('orders.app.supportedUnit')}>{a.supportedUnit}</Fact>
          <Fact label={t('orders.app.equipment')}>{a.equipment}</Fact>
          <Fact label={t('orders.app.assemblyAt')}>
            {dateTime(a.assemblyAt)} · {a.assemblyPlace}
          </Fact>
          <Fact label={t('orders.app.duration')}>
            {dateTime(a.start)} – {dateTime(a.end)}
          </Fact>
        </>
      )}
    </div>
  );
}
