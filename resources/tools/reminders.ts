import type { EventBus } from '../../core/bus.ts';
import type { Logger } from '../../core/logger.ts';
import type { ResourceEvents } from '../events.ts';
import type { Tools } from './tools.ts';

/** How often the register is swept for items due: hourly. */
export const REMINDER_SWEEP_MS = 3_600_000;

/**
 * Calibration and maintenance reminders: at start and every `intervalMs`, each item due soon or
 * overdue is announced on the bus (`resources.tool_due`); the notifications side turns it into a
 * console-inbox reminder, idempotent per item, kind, due date and state, so a sweep repeated (or
 * run by two processes) reminds once.
 */
export function createToolReminders(
  deps: { tools: Pick<Tools, 'list'>; bus: Pick<EventBus<ResourceEvents>, 'emit'>; log: Logger },
  options: { intervalMs?: number } = {},
) {
  let timer: NodeJS.Timeout | undefined;
  async function sweep(): Promise<number> {
    let announced = 0;
    for (const tool of await deps.tools.list({ due: true }))
      for (const what of ['calibration', 'maintenance'] as const) {
        const state = tool[what];
        const dueAt = what === 'calibration' ? tool.calibrationDueAt : tool.maintenanceDueAt;
        if ((state === 'due_soon' || state === 'overdue') && dueAt !== null) {
          deps.bus.emit('resources.tool_due', { tool, what, state, dueAt });
          announced++;
        }
      }
    return announced;
  }
  const run = () => void sweep().catch((err: unknown) => deps.log.warn({ err }, 'tool reminder sweep failed'));
  return {
    sweep,
    start() {
      run();
      timer = setInterval(run, options.intervalMs ?? REMINDER_SWEEP_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

export type ToolReminders = ReturnType<typeof createToolReminders>;
