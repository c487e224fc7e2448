import { describe, expect, it } from 'vitest';
import type { ModeStep, StepDetails } from '../../diagnostics/tickets/mode-steps.ts';
import type { ReportBlock } from '../../reports/document.ts';
import {
  layoutWorkContactLetter,
  letterAvailable,
  type WorkContactLetterSources,
} from '../../reports/work-contact-letter.ts';

const T0 = Date.UTC(2026, 11, 3, 1, 0); // 09:00 in Asia/Shanghai
const MIN = 60_000;
let nextId = 1;
const st = (step: string, at: number, details: StepDetails, more: Partial<ModeStep> = {}): ModeStep => ({
  id: nextId++,
  ticketId: 7,
  mode: 'return_to_factory',
  step,
  at,
  recordedAt: at,
  actor: 'eng-1',
  side: 'staff',
  note: null,
  visibility: 'customer',
  details,
  confirmedAt: null,
  confirmedBy: null,
  confirmNote: null,
  ...more,
});

const sources = (steps: ModeStep[]): WorkContactLetterSources => ({
  ticket: { number: 'EM-CA-0007', title: '逆变器无输出', contacts: [{ name: '王工', phone: '13800000000' }] },
  unit: { id: 'CA', name: '甲单位' },
  vehicle: { id: 'VA1', name: '电源车 1 号', model: 'PW-200' },
  steps,
  people: {
    'eng-1': { name: '李技师', side: 'staff' },
    'cust-a': { name: '王工', side: 'customer' },
  },
  resolution: { cause: 'IGBT 击穿', workDone: '更换 IGBT 模块' },
  parts: [
    {
      name: 'IGBT',
      names: { zh: 'IGBT 功率模块', en: 'IGBT power module' },
      partNo: 'IG-1',
      quantity: 1,
      unit: '个',
      note: null,
      store: null,
    },
  ],
  ourContacts: ['李技师'],
  generatedAt: T0 + 3000 * MIN,
});

const text = (blocks: ReportBlock[]) => JSON.stringify(blocks);

describe('the work-contact letter layout (《工作联系函》)', () => {
  const upToRepair = [
    st(
      'handed_over',
      T0,
      { item: '逆变器模块', result: '外壳完好' },
      {
        confirmedBy: 'cust-a',
        confirmedAt: T0 + 5 * MIN,
        confirmNote: '属实',
      },
    ),
    st('shipped_to_factory', T0 + 60 * MIN, { method: 'shipped', carrier: '顺丰', tracking: 'SF1' }),
    st('received_at_factory', T0 + 600 * MIN, { count: 2, result: '数量相符' }),
    st('repaired_at_factory', T0 + 900 * MIN, { result: '已修复' }),
  ];

  it('exists once the repair at the factory is recorded, in that mode only', () => {
    expect(letterAvailable(upToRepair.slice(0, 3))).toBe(false);
    expect(letterAvailable(upToRepair)).toBe(true);
    expect(letterAvailable([{ mode: 'emergency_replacement', step: 'repaired_at_factory' }])).toBe(false);
  });

  it('lays out the handover, shipments, inspection, repair and an open receipt in Chinese', () => {
    const doc = layoutWorkContactLetter(sources(upToRepair), 'zh', 'Asia/Shanghai');
    expect(doc.title).toBe('工作联系函');
    expect(doc.reference).toContain('EM-CA-0007');
    const all = text(doc.blocks);
    for (const s of [
      '甲单位 (CA)',
      '逆变器模块',
      '外壳完好',
      '王工 · 2026-12-03 09:05 · 属实',
      '托运/邮寄',
      '顺丰',
      'SF1',
    ])
      expect(all).toContain(s);
    expect(all).toContain('IGBT 击穿');
    expect(all).toContain('IGBT 功率模块');
    expect(all).toContain('13800000000');
    expect(all).toContain('李技师');
    // not yet: the assessment, the return and the receipt
    expect(all).toContain('尚未记录');
    const sig = doc.blocks.find((b) => b.kind === 'signatures');
    expect(sig?.kind === 'signatures' && sig.parties.map((p) => p.signed)).toEqual([false, false]);
    expect(all).toContain('请在控制台记录收货确认');
  });

  it('fills the receipt confirmation once the user records it (English)', () => {
    const steps = [
      ...upToRepair,
      st('assessed_after_repair', T0 + 960 * MIN, { result: 'load test passed' }),
      st('shipped_back', T0 + 1000 * MIN, { method: 'shipped', carrier: 'SF', tracking: 'SF2' }),
      st('receipt_confirmed', T0 + 2000 * MIN, { count: 2 }, { actor: 'cust-a', side: 'customer', note: 'all fine' }),
    ];
    const doc = layoutWorkContactLetter(sources(steps), 'en', 'Asia/Shanghai');
    expect(doc.title).toBe('Work contact letter');
    const all = text(doc.blocks);
    expect(all).toContain('load test passed');
    expect(all).toContain('SF2');
    expect(all).toContain('all fine');
    expect(all).toContain('IGBT power module');
    expect(all).not.toContain('Please record the receipt');
    const sig = doc.blocks.find((b) => b.kind === 'signatures');
    if (sig?.kind !== 'signatures') throw new Error('no signatures');
    expect(sig.parties.map((p) => [p.name, p.signed, p.status])).toEqual([
      ['李技师', true, 'Shipped'],
      ['王工', true, 'Receipt confirmed'],
    ]);
    expect(doc.footer).toContain('Asia/Shanghai');
  });
});
