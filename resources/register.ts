import type { EventBus } from '../core/bus.ts';
import type { Logger } from '../core/logger.ts';
import type { RecordsDb } from '../records/db.ts';
import type { ResourceEvents } from './events.ts';
import { createPartners } from './partners/partners.ts';
import { createPeople } from './people/people.ts';
import { createQuality } from './suppliers/quality.ts';
import { createSuppliers } from './suppliers/suppliers.ts';
import { createToolReminders } from './tools/reminders.ts';
import { createTools } from './tools/tools.ts';

/**
 * The resource register (docs/resources-register.md): tools and equipment, suppliers and quality,
 * partners, people — over the records store. `start` runs the calibration/maintenance reminder sweep.
 */
export function createResourceRegister(
  deps: { db: RecordsDb; now?: () => number; bus: Pick<EventBus<ResourceEvents>, 'emit'>; log: Logger },
  options: { reminderIntervalMs?: number } = {},
) {
  const now = deps.now ?? Date.now;
  const db = deps.db;
  const tools = createTools({ db, now });
  const suppliers = createSuppliers({ db, now });
  const quality = createQuality({ db, now, suppliers });
  const partners = createPartners({ db, now });
  const people = createPeople({ db, now });
  const reminders = createToolReminders(
    { tools, bus: deps.bus, log: deps.log.child({ module: 'resources' }) },
    options.reminderIntervalMs ? { intervalMs: options.reminderIntervalMs } : {},
  );
  return {
    tools,
    suppliers,
    quality,
    partners,
    people,
    reminders,
    start() {
      reminders.start();
    },
    stop() {
      reminders.stop();
    },
  };
}

export type ResourceRegister = ReturnType<typeof createResourceRegister>;
