import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isPlatformError, type ErrorCode } from '../../core/errors.ts';
import { createModeSteps, MODE_STEPS, STEP_NAMES, type ModeStepEvents } from '../../diagnostics/tickets/mode-steps.ts';
import { T0 } from './fixtures.ts';
import { startDiagnostics } from './harness.ts';

const MIN = 60_000;

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (isPlatformError(err)) return err.code;
    throw err;
  }
}

/**
 * The service modes' own steps (issue 13 item 3, docs/service.md): each mode's order, who records
 * what, closed tickets, moving between modes keeping every record, the bus events.
 */
describe('service-mode steps of a ticket (服务方式: 现场修理, 返厂修理, 应急更换)', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function setup() {
    h = await startDiagnostics();
    let clock = T0;
    const d = h;
    const tick = (at: number) => {
      clock = at;
      d.setClock(at);
    };
    const steps = createModeSteps({
      db: h.db,
      bus: h.bus,
      log: pino({ level: 'silent' }),
      tickets: h.tickets,
      now: () => clock,
    });
    const heard: ModeStepEvents['ticket.mode_step'][] = [];
    h.bus.on('ticket.mode_step', (e) => void heard.push(e));
    const t = await h.tickets.open(
      { source: 'hotline', customerId: 'C1', vehicleId: 'V1', level: 'extra_urgent', title: 't', need: 'no power' },
      'desk',
    );
    return { h, steps, heard, t, tick };
  }

  it('step names are unique across modes, and each mode has its order', () => {
    expect(new Set(STEP_NAMES).size).toBe(STEP_NAMES.length);
    expect(MODE_STEPS.on_site_repair.map((d) => d.step)).toEqual([
      'agreed',
      'departed',
      'arrived',
      'joint_assessment',
      'cause_found',
      'repaired_on_site',
      'training_given',
    ]);
  });

  it('on-site repair: refused out of order, twice, in another mode, by the other side, without its details', async () => {
    const { h, steps, heard, t, tick } = await setup();
    // not in on-site repair yet
    expect(
      await codeOf(
        steps.record(t.id, { mode: 'on_site_repair', step: 'agreed', details: { transport: 'car' } }, 'eng', 'staff'),
      ),
    ).toBe('MODE_NOT_CURRENT');
    await h.tickets.setServiceMode(t.id, 'on_site_repair', 'desk');
    expect(await codeOf(steps.record(t.id, { mode: 'on_site_repair', step: 'arrived' }, 'eng', 'staff'))).toBe(
      'STEP_OUT_OF_ORDER',
    );
    expect(await codeOf(steps.record(t.id, { mode: 'on_site_repair', step: 'agreed' }, 'eng', 'staff'))).toBe(
      'STEP_DETAILS_REQUIRED',
    );
    expect(
      await codeOf(
        steps.record(t.id, { mode: 'on_site_repair', step: 'agreed', details: { carrier: 'x' } }, 'eng', 'staff'),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(await codeOf(steps.record(t.id, { mode: 'on_site_repair', step: 'loaner_out' }, 'eng', 'staff'))).toBe(
      'STEP_NOT_IN_MODE',
    );
    expect(
      await codeOf(
        steps.record(
          t.id,
          { mode: 'on_site_repair', step: 'agreed', details: { transport: 'car' } },
          'cust',
          'customer',
        ),
      ),
    ).toBe('FORBIDDEN');

    tick(T0 + 5 * MIN);
    const agreed = await steps.record(
      t.id,
      { mode: 'on_site_repair', step: 'agreed', details: { transport: 'service car', plannedAt: T0 + 90 * MIN } },
      'eng',
      'staff',
    );
    expect(agreed).toMatchObject({ step: 'agreed', at: T0 + 5 * MIN, side: 'staff', visibility: 'internal' });
    expect(
      await codeOf(
        steps.record(t.id, { mode: 'on_site_repair', step: 'agreed', details: { transport: 'x' } }, 'eng', 'staff'),
      ),
    ).toBe('STEP_ALREADY_RECORDED');
    // a time before the previous step's is out of order; one in the future is refused
    expect(
      await codeOf(steps.record(t.id, { mode: 'on_site_repair', step: 'departed', at: T0 + 4 * MIN }, 'eng', 'staff')),
    ).toBe('STEP_OUT_OF_ORDER');
    expect(
      await codeOf(steps.record(t.id, { mode: 'on_site_repair', step: 'departed', at: T0 + 60 * MIN }, 'eng', 'staff')),
    ).toBe('INVALID_ARGUMENT');
    tick(T0 + 10 * MIN);
    await steps.record(
      t.id,
      { mode: 'on_site_repair', step: 'departed', details: { eta: T0 + 80 * MIN } },
      'eng',
      'staff',
    );
    // the departure's ETA is the ticket's
    expect((await h.tickets.get(t.id)).eta).toBe(T0 + 80 * MIN);
    tick(T0 + 90 * MIN);
    await steps.record(
      t.id,
      { mode: 'on_site_repair', step: 'arrived', at: T0 + 75 * MIN, note: 'gate code 1234' },
      'eng',
      'staff',
    );
    const joint = await steps.record(
      t.id,
      { mode: 'on_site_repair', step: 'joint_assessment', details: { result: 'generator fails to start' } },
      'eng',
      'staff',
    );
    // the customer side confirms the joint assessment; not twice; a step it does not confirm is refused
    const confirmed = await steps.confirm(t.id, joint.id, 'cust', 'agreed');
    expect(confirmed).toMatchObject({ confirmedBy: 'cust', confirmNote: 'agreed', confirmedAt: T0 + 90 * MIN });
    expect(await codeOf(steps.confirm(t.id, joint.id, 'cust', null))).toBe('STEP_ALREADY_CONFIRMED');
    expect(await codeOf(steps.confirm(t.id, agreed.id, 'cust', null))).toBe('STEP_NOT_CONFIRMABLE');
    expect(await codeOf(steps.confirm(t.id, 99_999, 'cust', null))).toBe('MODE_STEP_NOT_FOUND');

    const timeline = await h.tickets.timeline(t.id);
    expect(timeline.filter((e) => e.action.startsWith('step_')).map((e) => [e.action, e.visibility])).toEqual([
      ['step_agreed', 'customer'],
      ['step_departed', 'customer'],
      ['step_arrived', 'customer'],
      ['step_joint_assessment', 'customer'],
      ['step_confirmed', 'customer'],
    ]);
    // the arrival's note stays with the step (internal), the timeline has no note for it
    expect(timeline.find((e) => e.action === 'step_arrived')?.note).toBeNull();
    expect(heard.map((e) => [e.step.step, e.change])).toEqual([
      ['agreed', 'recorded'],
      ['departed', 'recorded'],
      ['arrived', 'recorded'],
      ['joint_assessment', 'recorded'],
      ['joint_assessment', 'confirmed'],
    ]);
  });

  it('moving remote → on-site → return to factory keeps every record; the mode change is on the timeline; closed tickets refuse', async () => {
    const { h, steps, t } = await setup();
    await h.tickets.setServiceMode(t.id, 'remote_support', 'desk');
    await h.tickets.setServiceMode(t.id, 'on_site_repair', 'desk');
    await steps.record(t.id, { mode: 'on_site_repair', step: 'agreed', details: { transport: 'car' } }, 'eng', 'staff');
    await steps.record(t.id, { mode: 'on_site_repair', step: 'departed' }, 'eng', 'staff');
    await steps.record(t.id, { mode: 'on_site_repair', step: 'arrived' }, 'eng', 'staff');
    await h.tickets.setServiceMode(t.id, 'return_to_factory', 'desk');
    // the on-site steps are no longer the current mode's
    expect(
      await codeOf(
        steps.record(
          t.id,
          { mode: 'on_site_repair', step: 'joint_assessment', details: { result: 'x' } },
          'eng',
          'staff',
        ),
      ),
    ).toBe('MODE_NOT_CURRENT');
    await steps.record(
      t.id,
      { mode: 'return_to_factory', step: 'handed_over', details: { item: 'inverter module' } },
      'eng',
      'staff',
    );
    await steps.record(
      t.id,
      {
        mode: 'return_to_factory',
        step: 'shipped_to_factory',
        details: { method: 'shipped', carrier: 'SF', tracking: 'SF123' },
      },
      'eng',
      'staff',
    );
    await steps.record(
      t.id,
      { mode: 'return_to_factory', step: 'received_at_factory', details: { count: 1 } },
      'eng',
      'staff',
    );
    await steps.record(
      t.id,
      { mode: 'return_to_factory', step: 'repaired_at_factory', details: { result: 'IGBT replaced' } },
      'eng',
      'staff',
    );
    await steps.record(
      t.id,
      { mode: 'return_to_factory', step: 'assessed_after_repair', details: { result: 'passes' } },
      'eng',
      'staff',
    );
    await steps.record(
      t.id,
      { mode: 'return_to_factory', step: 'shipped_back', details: { method: 'shipped', carrier: 'SF' } },
      'eng',
      'staff',
    );
    // the receipt is the customer side's
    expect(
      await codeOf(steps.record(t.id, { mode: 'return_to_factory', step: 'receipt_confirmed' }, 'eng', 'staff')),
    ).toBe('FORBIDDEN');
    await steps.record(
      t.id,
      { mode: 'return_to_factory', step: 'receipt_confirmed', details: { count: 1 }, visibility: 'internal' },
      'cust',
      'customer',
    );

    const all = await steps.list(t.id);
    expect(all.map((s) => `${s.mode}:${s.step}`)).toEqual([
      'on_site_repair:agreed',
      'on_site_repair:departed',
      'on_site_repair:arrived',
      'return_to_factory:handed_over',
      'return_to_factory:shipped_to_factory',
      'return_to_factory:received_at_factory',
      'return_to_factory:repaired_at_factory',
      'return_to_factory:assessed_after_repair',
      'return_to_factory:shipped_back',
      'return_to_factory:receipt_confirmed',
    ]);
    // a customer's own step is always visible to its unit
    expect(all.at(-1)).toMatchObject({ side: 'customer', visibility: 'customer', actor: 'cust' });
    expect((await h.tickets.timeline(t.id)).filter((e) => e.action === 'service_mode_set').map((e) => e.note)).toEqual([
      'remote_support',
      'on_site_repair',
      'return_to_factory',
    ]);

    await h.tickets.transition(t.id, 'cancel', 'desk');
    const handed = all.find((s) => s.step === 'handed_over')!;
    expect(await codeOf(steps.confirm(t.id, handed.id, 'cust', null))).toBe('TICKET_CLOSED');
    expect(
      await codeOf(
        steps.record(t.id, { mode: 'return_to_factory', step: 'handed_over', details: { item: 'x' } }, 'eng', 'staff'),
      ),
    ).toBe('TICKET_CLOSED');
  });

  it('emergency replacement: a loaner out (which, serial), swapped, the original repaired, swapped back, loaner returned', async () => {
    const { h, steps, t } = await setup();
    await h.tickets.setServiceMode(t.id, 'emergency_replacement', 'desk', 'crew chief Li by phone');
    expect(
      await codeOf(
        steps.record(
          t.id,
          { mode: 'emergency_replacement', step: 'loaner_out', details: { unitKind: 'module' } },
          'eng',
          'staff',
        ),
      ),
    ).toBe('STEP_DETAILS_REQUIRED');
    await steps.record(
      t.id,
      {
        mode: 'emergency_replacement',
        step: 'loaner_out',
        details: { unitKind: 'module', item: 'charger module', serial: 'LN-0042' },
      },
      'eng',
      'staff',
    );
    expect(
      await codeOf(steps.record(t.id, { mode: 'emergency_replacement', step: 'swapped_back' }, 'eng', 'staff')),
    ).toBe('STEP_OUT_OF_ORDER');
    for (const step of ['swapped', 'original_repaired', 'swapped_back', 'loaner_returned'])
      await steps.record(t.id, { mode: 'emergency_replacement', step }, 'eng', 'staff');
    const all = await steps.list(t.id);
    expect(all[0]!.details).toEqual({ unitKind: 'module', item: 'charger module', serial: 'LN-0042' });
    expect(all.map((s) => s.step)).toEqual([
      'loaner_out',
      'swapped',
      'original_repaired',
      'swapped_back',
      'loaner_returned',
    ]);
  });
});
