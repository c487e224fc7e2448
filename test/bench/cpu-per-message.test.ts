import { describe, expect, it } from 'vitest';
import { cpuPerMessage, cpuPerMessageText, type CpuFigures } from '../../bench/shared/procs.ts';

const figures = (over: Partial<CpuFigures>): CpuFigures => ({
  pct: {},
  mainThreadPct: {},
  othersPct: 0,
  irqPct: 0,
  topOthers: [],
  ...over,
});

describe('CPU per message (bench:ingest)', () => {
  it('turns % of one core at a rate into µs on a CPU per message, by process', () => {
    // 107 % of a core at 25,779 frames/s is 1.07 s of CPU a second over 25,779 frames: 41.5 µs each
    const c = figures({
      pct: { platform: 107, load: 78, bench: 3 },
      mainThreadPct: { platform: 69, load: 69, bench: 3 },
      irqPct: 10,
    });
    expect(cpuPerMessage(c, 25_779)).toEqual({
      platform: 41.5,
      platformMain: 26.8,
      load: 30.3,
      loadMain: 26.8,
      irq: 3.9,
    });
  });

  it('names a main thread only where the other threads add 5 % of a core or more, as the CPU line does', () => {
    const c = figures({ pct: { mosquitto: 54, subscriber: 21 }, mainThreadPct: { mosquitto: 54, subscriber: 18 } });
    expect(cpuPerMessage(c, 9_000)).toEqual({ mosquitto: 60, subscriber: 23.3, irq: 0 });
  });

  it('gives 0, not Infinity, for a window with no messages', () => {
    expect(cpuPerMessage(figures({ pct: { platform: 5 }, mainThreadPct: { platform: 5 } }), 0)).toEqual({
      platform: 0,
      irq: 0,
    });
  });

  it('prints each process with its main thread, then the interrupts', () => {
    expect(cpuPerMessageText({ platform: 41.5, platformMain: 26.8, load: 30.3, irq: 3.9 })).toBe(
      'platform 41.5 (main thread 26.8), load 30.3, kernel interrupts 3.9',
    );
  });
});
