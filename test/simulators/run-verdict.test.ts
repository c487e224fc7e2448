import { describe, expect, it } from 'vitest';
import { runProblems, type RunCounts } from '../../simulators/fleet/run-verdict.ts';

/** simulators/fleet/run-verdict.ts: when `npm run simulate` ends with a failing exit code. */
describe("a simulated fleet run's verdict", () => {
  const ok: RunCounts = {
    vehicles: 2,
    framesSampled: 100,
    framesAcked: 90,
    buffered: 6,
    dropped: 3,
    lostOnReboot: 1,
    connectFailures: 4,
  };

  it('passes a run whose frames are all acknowledged, buffered, dropped or lost on a reboot', () => {
    expect(runProblems(ok, 'mqtt://127.0.0.1:1883')).toEqual([]);
  });

  it('passes a run that sampled nothing (too short for a first frame)', () => {
    expect(
      runProblems({ ...ok, framesSampled: 0, framesAcked: 0, buffered: 0, dropped: 0, lostOnReboot: 0 }, 'x'),
    ).toEqual([]);
  });

  it('fails a run in which the platform acknowledged nothing, naming the broker and the failed connections', () => {
    const s = { ...ok, framesAcked: 0, buffered: 96 };
    expect(runProblems(s, 'mqtt://127.0.0.1:9')).toEqual([
      'no frame was acknowledged: 100 sampled by 2 vehicle(s), 4 failed connection attempts to mqtt://127.0.0.1:9',
    ]);
  });

  it('fails a run with frames unaccounted for, saying how many', () => {
    expect(runProblems({ ...ok, framesAcked: 85 }, 'x')).toEqual([
      '5 frames lost: sampled, but neither acknowledged, still buffered, dropped by a full buffer nor lost on a reboot',
    ]);
  });
});
