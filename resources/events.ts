import type { DueState, Tool } from './tools/tools.ts';

/** What the resource register tells the rest of the platform over the bus (core/events.ts). */
export interface ResourceEvents {
  /**
   * A register item's calibration or maintenance is due soon or overdue (resources/tools/reminders.ts,
   * at every sweep while it is): notifications/tool-reminders.ts puts a reminder in the console inbox,
   * once per item, kind, due date and state.
   */
  'resources.tool_due': {
    tool: Tool;
    what: 'calibration' | 'maintenance';
    state: Extract<DueState, 'due_soon' | 'overdue'>;
    dueAt: number;
  };
}
