import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToolReminderNotices } from '../../notifications/tool-reminders.ts';
import { seedDemoResources } from '../../simulators/demo-resources.ts';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * The resource register over HTTP (issue 14 items 6–9): a tool past its calibration date flagged and
 * reminded in the inbox, a supplier's failure rate from tickets attributed to its part, a partner
 * dispatched onto a ticket with ETA and outcome and its performance, a team suggested by skill and
 * availability. Real SQLite, the test clock.
 */
describe('resource register', () => {
  let w: TestWeb;
  let admin: Agent;
  let dispatcher: Agent;
  let engineer: Agent;

  /** Signs everyone in (again: sessions end when the test clock jumps past their idle timeout). */
  async function signIn() {
    admin = await w.login('admin');
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
  }
  /** Moves the clock on and signs in again. */
  async function advance(ms: number) {
    w.advance(ms);
    await signIn();
  }

  beforeEach(async () => {
    w = await startWeb();
    await signIn();
  });
  afterEach(async () => w.close());

  it('flags a tool past its calibration date and reminds its keeper and the admins once in the console inbox', async () => {
    const notices = createToolReminderNotices({ db: w.db, bus: w.bus, now: w.now, log: pino({ level: 'silent' }) });
    notices.start();
    const added = await engineer.post('/api/tools', {
      code: 'TL-INS-01',
      name: 'Insulation tester',
      nameZh: '绝缘电阻测试仪',
      kind: 'instrument',
      location: 'Central store, shelf 3',
      keeper: 'engineer',
      calibrationDueAt: w.now() + 30 * DAY,
    });
    expect(added.statusCode, added.body).toBe(201);
    const id = (added.json() as { tool: { id: number } }).tool.id;
    const flag = async () =>
      ((await admin.get('/api/tools')).json() as { tools: { id: number; calibration: string }[] }).tools.find(
        (t) => t.id === id,
      )!.calibration;
    expect(await flag()).toBe('ok');
    expect(((await admin.get('/api/tools?due=true')).json() as { tools: unknown[] }).tools).toEqual([]);
    expect(await w.resourceRegister.reminders.sweep()).toBe(0);

    await advance(20 * DAY);
    expect(await flag()).toBe('due_soon');
    await advance(10 * DAY + 1);
    expect(await flag()).toBe('overdue');
    const due = (await admin.get('/api/tools?due=true')).json() as { tools: { code: string; calibration: string }[] };
    expect(due.tools).toEqual([expect.objectContaining({ code: 'TL-INS-01', calibration: 'overdue' })]);

    const inbox = async (a: Agent) =>
      ((await a.get('/api/inbox')).json() as { items: { kind: string; subject: string }[] }).items.filter(
        (i) => i.kind === 'tool_due',
      );
    expect(await w.resourceRegister.reminders.sweep()).toBe(1);
    await w.resourceRegister.reminders.sweep(); // a second sweep: no second reminder
    // the dispatcher delivers inbox rows; here they are marked delivered as it would
    await w.db.updateTable('notifications').set({ status: 'delivered', delivered_at: w.now() }).execute();
    for (const a of [admin, engineer]) {
      const items = await inbox(a);
      expect(items).toHaveLength(1);
      expect(items[0]!.subject).toContain('Calibration overdue');
      expect(items[0]!.subject).toContain('校准已过期');
    }
    expect(await inbox(dispatcher)).toEqual([]);

    // calibrated: the next due date a year on, no longer flagged
    const done = await engineer.patch(`/api/tools/${id}`, { calibrationDueAt: w.now() + 365 * DAY });
    expect((done.json() as { tool: { calibration: string } }).tool.calibration).toBe('ok');
    notices.stop();
  });

  it('checks a tool out to a ticket’s team and back; a second check-out of the same item is refused', async () => {
    const ticket = await w.ticket('VA1');
    const { tool } = (
      await dispatcher.post('/api/tools', {
        code: 'TL-GEN-KIT',
        name: 'Generator kit',
        kind: 'tool',
        location: 'Van 2',
      })
    ).json() as { tool: { id: number } };
    const out = await dispatcher.post(`/api/tools/${tool.id}/checkout`, { ticketId: ticket.id, team: ['zhang.wei'] });
    expect(out.statusCode, out.body).toBe(200);
    expect(out.json()).toMatchObject({ tool: { status: 'checked_out', checkout: { ticketId: ticket.id } } });
    const again = await dispatcher.post(`/api/tools/${tool.id}/checkout`, { ticketId: ticket.id, team: ['li.na'] });
    expect(again.statusCode).toBe(409);
    expect(codeOf(again)).toBe('TOOL_NOT_AVAILABLE');
    expect(((await admin.get(`/api/tools?ticketId=${ticket.id}`)).json() as { tools: unknown[] }).tools).toHaveLength(
      1,
    );
    // ten check-outs of another available item at the same moment: exactly one gets it
    const { tool: meter } = (
      await dispatcher.post('/api/tools', { code: 'TL-METER', name: 'Meter', kind: 'instrument', location: 'store' })
    ).json() as { tool: { id: number } };
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? engineer : dispatcher).post(`/api/tools/${meter.id}/checkout`, {
          ticketId: ticket.id,
          team: [`p${i}`],
        }),
      ),
    );
    expect(racing.map((r) => r.statusCode).sort()).toEqual([200, ...Array(9).fill(409)]);
    expect(
      ((await admin.get(`/api/tools/${meter.id}/checkouts`)).json() as { checkouts: unknown[] }).checkouts,
    ).toHaveLength(1);
    const back = await engineer.post(`/api/tools/${tool.id}/return`, { note: 'ok', location: 'Central store' });
    expect(back.json()).toMatchObject({ tool: { status: 'available', location: 'Central store', checkout: null } });
    const history = (await admin.get(`/api/tools/${tool.id}/checkouts`)).json() as {
      checkouts: { returnedBy: string; team: string[] }[];
    };
    expect(history.checkouts).toEqual([expect.objectContaining({ returnedBy: 'engineer', team: ['zhang.wei'] })]);
  });

  it('computes a supplier part’s failure rate over fleet hours from tickets attributed to it, and tracks quality feedback', async () => {
    await w.vehicles.add({ id: 'VA2', customerId: 'CA', name: 'Shelter A2', model: 'XJ-30' });
    for (const s of [
      { id: 'SUP-GEN', name: 'Generator Works', contact: 'Wang, 0731-1000', status: 'approved' },
      { id: 'SUP-ELEC', name: 'Power Electronics Co', contact: 'Chen, 0731-2000' },
    ]) {
      const res = await engineer.post('/api/suppliers', s);
      expect(res.statusCode, res.body).toBe(201);
    }
    // three vehicles registered at the start; 1,000 hours on, three faults attributed
    await advance(1000 * HOUR);
    const t1 = await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    const t2 = await w.ticket('VB1', 'urgent', 'GEN-START-FAIL');
    const t3 = await w.ticket('VA2', 'urgent', 'CHG-FAIL');
    for (const [t, partNumber, supplierId] of [
      [t1, 'P-STARTER-24V', 'SUP-GEN'],
      [t2, 'P-STARTER-24V', 'SUP-GEN'],
      [t3, 'P-REG-28V', 'SUP-ELEC'],
    ] as const) {
      const res = await engineer.post(`/api/tickets/${t.id}/quality-records`, { partNumber, supplierId });
      expect(res.statusCode, res.body).toBe(201);
    }
    const twice = await engineer.post(`/api/tickets/${t1.id}/quality-records`, {
      partNumber: 'P-STARTER-24V',
      supplierId: 'SUP-GEN',
    });
    expect(codeOf(twice)).toBe('QUALITY_RECORD_EXISTS');
    expect(
      codeOf(await engineer.post(`/api/tickets/${t1.id}/quality-records`, { partNumber: 'P-X', supplierId: 'NOPE' })),
    ).toBe('SUPPLIER_NOT_FOUND');

    // the regulator is catalogued as fitting model XJ-30 only (VA2): its rate is over that vehicle's hours
    const part = await admin.post('/api/stock/parts', {
      partNo: 'P-REG-28V',
      name: { en: 'Charging regulator 28 V', zh: '充电调节器 28V' },
      unit: 'pc',
      wearing: false,
      fitsModels: ['XJ-30'],
      fitsModules: ['charging'],
      leadTimeDays: 14,
      suppliers: [{ id: 'SUP-ELEC', name: 'Power Electronics Co' }],
    });
    expect(part.statusCode, part.body).toBe(201);

    const rates = (await admin.get(`/api/quality/failure-rates?from=0`)).json() as {
      fleetHours: number;
      rates: { supplierId: string; partNumber: string; failures: number; per1000Hours: number; mtbfHours: number }[];
    };
    // 3 vehicles × 1,000 h
    expect(rates.fleetHours).toBe(3000);
    expect(rates.rates).toEqual([
      {
        supplierId: 'SUP-GEN',
        partNumber: 'P-STARTER-24V',
        failures: 2,
        fleetHours: 3000,
        exposure: 'whole_fleet',
        per1000Hours: 0.6667,
        mtbfHours: 1500,
      },
      {
        supplierId: 'SUP-ELEC',
        partNumber: 'P-REG-28V',
        failures: 1,
        fleetHours: 1000,
        exposure: 'fitted_models',
        per1000Hours: 1,
        mtbfHours: 1000,
      },
    ]);
    // a window that ends before the faults counts none of them
    const before = (await admin.get(`/api/quality/failure-rates?from=0&to=${w.now() - HOUR}`)).json() as {
      rates: unknown[];
    };
    expect(before.rates).toEqual([]);

    const detail = (await admin.get('/api/suppliers/SUP-GEN')).json() as { records: { id: number }[] };
    expect(detail.records).toHaveLength(2);
    const sent = await engineer.post('/api/suppliers/SUP-GEN/feedback', {
      partNumber: 'P-STARTER-24V',
      recordIds: detail.records.map((r) => r.id),
      subject: 'Starter motor failures',
      text: 'Two starters failed to engage within 1,000 h.',
      answerDueAt: w.now() + 7 * DAY,
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const feedbackId = (sent.json() as { feedback: { id: number; state: string } }).feedback.id;
    expect(sent.json()).toMatchObject({ feedback: { state: 'open' } });
    await advance(8 * DAY);
    expect(
      ((await admin.get('/api/suppliers/SUP-GEN')).json() as { feedback: { state: string }[] }).feedback[0]!.state,
    ).toBe('overdue');
    const answered = await engineer.post(`/api/quality-feedback/${feedbackId}/answer`, {
      answer: 'Batch 2026-09 had a faulty solenoid; replaced.',
    });
    expect(answered.json()).toMatchObject({ feedback: { state: 'answered' } });
    expect(codeOf(await engineer.post(`/api/quality-feedback/${feedbackId}/answer`, { answer: 'again' }))).toBe(
      'FEEDBACK_ANSWERED',
    );

    const evaluation = await engineer.post('/api/suppliers/SUP-GEN/evaluations', {
      quality: 2,
      delivery: 4,
      service: 3,
    });
    expect(evaluation.statusCode).toBe(201);
    expect(
      ((await admin.get('/api/suppliers')).json() as { suppliers: { id: string; lastScore: number }[] }).suppliers,
    ).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'SUP-GEN', lastScore: 3 })]));
    // the duty desk may read but not attribute (quality is the technical centre's)
    expect(
      (await dispatcher.post(`/api/tickets/${t1.id}/quality-records`, { partNumber: 'P-Y', supplierId: 'SUP-GEN' }))
        .statusCode,
    ).toBe(403);
  });

  it('dispatches a partner onto a ticket with ETA and outcome, and computes its on-time and rework figures', async () => {
    const ticket = await w.ticket('VA1');
    const created = await dispatcher.post('/api/partners', {
      kind: 'towing',
      name: 'Xiangjiang Towing',
      nameZh: '湘江拖车',
      regions: ['Changsha', 'Zhuzhou'],
      capabilities: ['heavy_towing'],
      reputation: 4,
      technicalStrength: 3,
      contacts: [{ name: 'Liu', phone: '0731-5550001' }],
      contractTerms: '24 h call-out, 2 h to arrive within the city',
    });
    expect(created.statusCode, created.body).toBe(201);
    const partnerId = (created.json() as { partner: { id: number } }).partner.id;
    expect(
      ((await admin.get('/api/partners?region=changsha')).json() as { partners: unknown[] }).partners,
    ).toHaveLength(1);
    expect(((await admin.get('/api/partners?region=Hengyang')).json() as { partners: unknown[] }).partners).toEqual([]);

    const eta = w.now() + 2 * HOUR;
    const sent = await dispatcher.post(`/api/tickets/${ticket.id}/partner-dispatches`, {
      partnerId,
      task: 'Tow the shelter vehicle to the service point',
      eta,
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const first = (sent.json() as { dispatch: { id: number } }).dispatch;
    expect(sent.json()).toMatchObject({ dispatch: { ticketId: ticket.id, eta, outcome: 'pending', onTime: null } });
    expect(
      ((await admin.get(`/api/partner-dispatches?ticketId=${ticket.id}`)).json() as { dispatches: unknown[] })
        .dispatches,
    ).toHaveLength(1);

    // on time, resolved
    const done = await dispatcher.patch(`/api/partner-dispatches/${first.id}`, {
      arrivedAt: eta - 10 * 60_000,
      outcome: 'resolved',
    });
    expect(done.json()).toMatchObject({ dispatch: { onTime: true, outcome: 'resolved' } });
    expect(codeOf(await dispatcher.patch(`/api/partner-dispatches/${first.id}`, { outcome: 'cancelled' }))).toBe(
      'PARTNER_DISPATCH_INVALID',
    );
    // a second one: 30 minutes late, and the work had to be done again
    const second = (
      (
        await dispatcher.post(`/api/tickets/${ticket.id}/partner-dispatches`, {
          partnerId,
          task: 'Tow again',
          eta: eta + DAY,
        })
      ).json() as { dispatch: { id: number } }
    ).dispatch;
    await dispatcher.patch(`/api/partner-dispatches/${second.id}`, {
      arrivedAt: eta + DAY + 30 * 60_000,
      outcome: 'resolved',
      rework: true,
    });
    const partner = ((await admin.get('/api/partners')).json() as { partners: { performance: unknown }[] })
      .partners[0]!;
    expect(partner.performance).toEqual({
      arrived: 2,
      onTime: 1,
      onTimePct: 50,
      completed: 2,
      rework: 1,
      reworkPct: 50,
      meanLateMin: 30,
    });
    // engineers read partners but do not dispatch them
    expect(
      (await engineer.post(`/api/tickets/${ticket.id}/partner-dispatches`, { partnerId, task: 'x', eta })).statusCode,
    ).toBe(403);
  });

  it('suggests qualified, available people for a ticket by the skill its fault needs; expired qualifications do not count', async () => {
    const ticket = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    const people = [
      {
        id: 'zhang.wei',
        name: 'Zhang Wei',
        department: 'market',
        qualifications: [{ skill: 'generator_set', certificate: 'GEN-II', expiresAt: w.now() + 365 * DAY }],
      },
      {
        id: 'li.na',
        name: 'Li Na',
        department: 'technical_centre',
        qualifications: [{ skill: 'generator_set', expiresAt: null }, { skill: 'power_electronics' }],
      },
      {
        id: 'wang.fang',
        name: 'Wang Fang',
        department: 'manufacturing',
        available: false,
        availabilityNote: 'on leave',
        qualifications: [{ skill: 'generator_set' }],
      },
      {
        id: 'chen.jie',
        name: 'Chen Jie',
        department: 'market',
        qualifications: [{ skill: 'generator_set', expiresAt: w.now() - DAY }],
      },
      { id: 'zhao.lei', name: 'Zhao Lei', department: 'supply_chain', qualifications: [{ skill: 'chassis' }] },
    ];
    for (const p of people) {
      const res = await dispatcher.post('/api/people', p);
      expect(res.statusCode, res.body).toBe(201);
    }
    const ids = (r: { id: string }[]) => r.map((p) => p.id);
    const s = (await engineer.get(`/api/tickets/${ticket.id}/team-suggestion`)).json() as {
      skill: string;
      suggested: { id: string }[];
      unavailable: { id: string }[];
    };
    expect(s.skill).toBe('generator_set');
    expect(ids(s.suggested)).toEqual(['zhang.wei', 'li.na']);
    expect(ids(s.unavailable)).toEqual(['wang.fang']);

    // Zhang Wei is out on another job: no longer suggested
    await dispatcher.patch('/api/people/zhang.wei', { available: false, availabilityNote: 'on ticket 7' });
    const after = (await engineer.get(`/api/tickets/${ticket.id}/team-suggestion`)).json() as {
      suggested: { id: string }[];
    };
    expect(ids(after.suggested)).toEqual(['li.na']);
    const chassis = (await engineer.get(`/api/tickets/${ticket.id}/team-suggestion?skill=chassis`)).json() as {
      suggested: { id: string }[];
    };
    expect(ids(chassis.suggested)).toEqual(['zhao.lei']);
    expect(
      ids(
        ((await admin.get('/api/people?skill=generator_set&available=true')).json() as { people: { id: string }[] })
          .people,
      ),
    ).toEqual(['li.na']);
    expect(codeOf(await engineer.get('/api/tickets/999999/team-suggestion'))).toBe('TICKET_NOT_FOUND');
  });

  it('the demo seed adds a small register once: an overdue and a due-soon instrument, suppliers, partners, people', async () => {
    await seedDemoResources(w.resourceRegister, w.now());
    await seedDemoResources(w.resourceRegister, w.now());
    const due = (await admin.get('/api/tools?due=true')).json() as { tools: { code: string; calibration: string }[] };
    expect(due.tools.map((t) => [t.code, t.calibration])).toEqual([
      ['TL-CLAMP-02', 'due_soon'],
      ['TL-INS-01', 'overdue'],
    ]);
    expect(((await admin.get('/api/suppliers')).json() as { suppliers: unknown[] }).suppliers).toHaveLength(2);
    expect(((await admin.get('/api/partners')).json() as { partners: unknown[] }).partners).toHaveLength(2);
    const ticket = await w.ticket('VA1', 'urgent', 'CHG-FAIL');
    const s = (await admin.get(`/api/tickets/${ticket.id}/team-suggestion`)).json() as { suggested: { id: string }[] };
    expect(s.suggested.map((p) => p.id)).toEqual(['li.na']);
  });
});
