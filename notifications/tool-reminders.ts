import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { RecordsDb } from '../records/db.ts';
import { enqueue } from './outbox.ts';

const WHAT = {
  calibration: { en: 'Calibration', zh: '校准' },
  maintenance: { en: 'Maintenance', zh: '保养' },
} as const;
const STATE = {
  due_soon: { en: 'due soon', zh: '即将到期' },
  overdue: { en: 'overdue', zh: '已过期' },
} as const;

/**
 * Reminders of the tools and equipment register (工具设备台账) in the console inbox: on each
 * `resources.tool_due` the item's keeper (when it is a console account) and every admin get an inbox
 * item, in both languages, keyed by item, kind, due date and state (the outbox skips a key it has),
 * so an item is reminded once when it comes due soon and once when it is overdue; a new due date
 * (calibrated, serviced) starts over. Wakes the dispatcher after the commit.
 */
export function createToolReminderNotices(deps: {
  db: RecordsDb;
  bus: Pick<EventBus<PlatformEvents>, 'on' | 'emit'>;
  now: () => number;
  log: Logger;
}) {
  const { db, bus, now } = deps;
  async function remind(e: PlatformEvents['resources.tool_due']): Promise<number> {
    const admins = await db
      .selectFrom('accounts')
      .select('id')
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .execute();
    const keeper = e.tool.keeper
      ? await db
          .selectFrom('accounts')
          .select('id')
          .where('id', '=', e.tool.keeper)
          .where('role', '<>', 'customer')
          .where('disabled', '=', 0)
          .executeTakeFirst()
      : undefined;
    const to = [...new Set([...(keeper ? [keeper.id] : []), ...admins.map((a) => a.id)])];
    const t = e.tool;
    const due = new Date(e.dueAt).toISOString().slice(0, 10);
    const subject = `${WHAT[e.what].en} ${STATE[e.state].en}: ${t.code} ${t.name} / ${WHAT[e.what].zh}${STATE[e.state].zh}：${t.code} ${t.nameZh ?? t.name}`;
    const text = `${t.code} ${t.name} (${t.location}): ${WHAT[e.what].en.toLowerCase()} due ${due}.\n${t.code} ${t.nameZh ?? t.name}（${t.location}）：${WHAT[e.what].zh}到期日 ${due}。`;
    const added = await enqueue(
      db,
      to.map((account) => ({
        key: `tool:${t.id}:${e.what}:${e.dueAt}:${e.state}:${account}`,
        channel: 'inbox' as const,
        target: account,
        accountId: account,
        kind: 'tool_due',
        language: 'en' as const,
        urgent: false,
        thread: `tool:${t.id}`,
        subject,
        text,
        payload: { kind: 'tool_due', toolId: t.id, code: t.code, what: e.what, state: e.state, dueAt: e.dueAt },
      })),
      now(),
    );
    if (added > 0) bus.emit('notification.enqueued', { count: added });
    return added;
  }
  let off: (() => void) | undefined;
  return {
    remind,
    start() {
      off = bus.on('resources.tool_due', (e) =>
        remind(e).then(
          () => undefined,
          (err: unknown) => deps.log.warn({ err, tool: e.tool.id }, 'tool reminder not written'),
        ),
      );
    },
    stop() {
      off?.();
      off = undefined;
    },
  };
}
