import type { FleetStats } from './fleet.ts';

/** `npm run simulate`'s exit code when the run itself failed: the platform got nothing, or frames went missing. */
export const RUN_FAILED_EXIT_CODE = 3;

/** The end-of-run counts the verdict reads (FleetStats at the end, after the drain). */
export type RunCounts = Pick<
  FleetStats,
  'vehicles' | 'framesSampled' | 'framesAcked' | 'buffered' | 'dropped' | 'lostOnReboot' | 'connectFailures'
>;

/**
 * Whether a run did what a run is for: frames sampled were acknowledged by the platform, and none of
 * them went missing. The problems, one sentence each (none: the run passed). Frames dropped by a full
 * buffer or lost on a simulated reboot are what a gateway does in such a case, not a failure of the
 * run; frames still buffered at the end are counted as such (`unacked`) and fail nothing either.
 */
export function runProblems(s: RunCounts, brokerUrl: string): string[] {
  const problems: string[] = [];
  if (s.framesSampled > 0 && s.framesAcked === 0)
    problems.push(
      `no frame was acknowledged: ${s.framesSampled} sampled by ${s.vehicles} vehicle(s), ` +
        `${s.connectFailures} failed connection attempts to ${brokerUrl}`,
    );
  const lost = s.framesSampled - s.framesAcked - s.buffered - s.dropped - s.lostOnReboot;
  if (lost > 0)
    problems.push(
      `${lost} frames lost: sampled, but neither acknowledged, still buffered, dropped by a full buffer nor lost on a reboot`,
    );
  return problems;
}
