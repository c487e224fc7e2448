import type { FleetStats } from './fleet.ts';

/** One line of live figures for stderr. */
export function formatStatus(s: FleetStats, framesPerS: number, simTs: number): string {
  const faults = Object.entries(s.activeFaults)
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');
  return (
    `${new Date(simTs).toISOString().slice(0, 19)}Z ` +
    `connected ${s.connected}/${s.vehicles}  ${framesPerS.toFixed(0)} frames/s  acked ${s.framesAcked}  buffered ${s.buffered}` +
    (s.dropped ? `  dropped ${s.dropped}` : '') +
    (s.errorsReceived ? `  errors ${s.errorsReceived}` : '') +
    `  faults ${s.vehiclesWithFaults}${faults ? ` (${faults})` : ''}` +
    (s.p99AckMs !== null ? `  p99 ack ${s.p99AckMs.toFixed(0)} ms` : '')
  );
}
