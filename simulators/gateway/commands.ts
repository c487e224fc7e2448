import {
  backfillArgsSchema,
  type BackfillArgs,
  type BackfillResult,
  type Command,
  type TelemetryFrame,
} from '../../protocol/index.ts';
import type { VehicleModel } from '../model/vehicle.ts';
import { SOURCE_MODES, type SourceMode } from '../model/transfer-switch.ts';

/**
 * Remote commands the reference gateway understands (platform → `commands`, answer on
 * `commands/ack`). Each is checked against the vehicle's state first: a command that would be
 * unsafe now is refused with the reason (确保人机安全), never half-done.
 *
 * | name              | args                                | does                                             |
 * |-------------------|-------------------------------------|--------------------------------------------------|
 * | setTelemetryRate  | { hz: 0.01–10, durationS?: 1–86400 } or { hz: 'default' } | sampling rate, e.g. 10 Hz during a remote session; 'default': back to the base rate now |
 * | snapshot          | {}                                  | samples and sends a frame now                    |
 * | startGenerator    | {}                                  | manual start (runs unloaded while mains is there) |
 * | stopGenerator     | {}                                  | releases the set: cool-down run, then stop       |
 * | switchSource      | { source: auto|mains|generator|battery } | forces the transfer switch, or back to auto |
 * | resetFault        | { code?: trip code } or { fault: scenario name or id } | clears a latched controller trip, or ends a simulated fault (repaired) |
 * | backfill          | { fromSeq, toSeq, afterTs?, beforeTs? } | re-sends those frames from the buffer; says which it no longer has |
 */
export const COMMAND_NAMES = [
  'setTelemetryRate',
  'snapshot',
  'startGenerator',
  'stopGenerator',
  'switchSource',
  'resetFault',
  'backfill',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type CommandOutcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

export interface CommandContext {
  model: VehicleModel;
  rateHz(): number;
  /** `hz` null: back to the gateway's base rate now (`durationS` is then ignored). */
  setRate(hz: number | null, durationS: number | null): void;
  /** Samples a frame now and queues it first in line; returns it. */
  snapshot(): TelemetryFrame;
  /** Queues buffered frames to be sent again; says which of the range it does not hold. */
  backfill(args: BackfillArgs): BackfillResult;
}

const refuse = (error: string): CommandOutcome => ({ ok: false, error });
const done = (result: Record<string, unknown> = {}): CommandOutcome => ({ ok: true, result });

export function executeCommand(cmd: Command, ctx: CommandContext): CommandOutcome {
  const { model } = ctx;
  const st = model.state();
  const args = cmd.args;
  switch (cmd.name as CommandName) {
    case 'setTelemetryRate': {
      const hz = args.hz;
      if (hz === 'default') {
        // the platform ends a raised rate (a remote session ended) before its durationS runs out
        if (args.durationS !== undefined) return refuse("args.durationS does not go with hz 'default'");
        ctx.setRate(null, null);
        return done({ hz: ctx.rateHz(), durationS: null, default: true });
      }
      if (typeof hz !== 'number' || !Number.isFinite(hz) || hz < 0.01 || hz > 10)
        return refuse("args.hz must be a number from 0.01 to 10, or 'default'");
      const d = args.durationS;
      if (d !== undefined && (typeof d !== 'number' || d < 1 || d > 86_400))
        return refuse('args.durationS must be 1–86400 seconds');
      ctx.setRate(hz, typeof d === 'number' ? d : null);
      return done({ hz, durationS: d ?? null });
    }
    case 'snapshot': {
      const f = ctx.snapshot();
      return done({ seq: f.seq, ts: f.ts });
    }
    case 'startGenerator': {
      if (!st.hasGenerator) return refuse('this vehicle has no generator');
      if (st.generatorTrip)
        return refuse(
          `generator has a latched fault ${st.generatorTrip}; clear it with resetFault once the cause is fixed`,
        );
      if (st.fuelPct <= 0) return refuse('generator has no fuel');
      if (st.generatorRunning) return done({ phase: st.generatorPhase, already: true });
      model.startGenerator();
      return done({ phase: 'cranking' });
    }
    case 'stopGenerator': {
      if (!st.hasGenerator) return refuse('this vehicle has no generator');
      if (!st.generatorRunning && st.generatorPhase !== 'cranking' && st.generatorPhase !== 'resting')
        return done({ phase: st.generatorPhase, already: true });
      if (!st.mainsPresent) {
        return refuse(
          `unsafe: the generator is the only AC source (mains absent) — stopping it would drop the ${st.loadKw.toFixed(1)} kW load onto the battery (${st.socPct.toFixed(0)} %); restore mains or switch to battery explicitly first`,
        );
      }
      model.stopGenerator();
      return done({ phase: 'cooldown', loadTo: 'mains' });
    }
    case 'switchSource': {
      const source = args.source;
      if (typeof source !== 'string' || !SOURCE_MODES.includes(source as SourceMode))
        return refuse(`args.source must be one of ${SOURCE_MODES.join(', ')}`);
      const mode = source as SourceMode;
      if (mode === 'mains' && !st.mainsPresent) return refuse('unsafe: mains is not present');
      if (mode === 'generator' && !st.hasGenerator) return refuse('this vehicle has no generator');
      if (mode === 'generator' && !st.generatorReady)
        return refuse(`generator is not ready to take the load (${st.generatorPhase}); start it first`);
      if (mode === 'battery' && (st.inverterCutoff || st.socPct < 30))
        return refuse(`unsafe: battery at ${st.socPct.toFixed(0)} % cannot carry the load`);
      model.setSourceMode(mode);
      return done({ mode });
    }
    case 'resetFault': {
      if (typeof args.fault === 'string') {
        const active = model
          .faults()
          .find(
            (f) =>
              (f.id === args.fault || f.name === args.fault) &&
              f.startTs <= st.ts &&
              (f.endTs === null || st.ts < f.endTs),
          );
        if (!active) return refuse(`no active fault "${args.fault}" on this vehicle`);
        model.endFault(active.id);
        return done({ repaired: active.id });
      }
      if (args.code !== undefined && typeof args.code !== 'string') return refuse('args.code must be a string');
      if (typeof args.code === 'string' && args.code !== st.generatorTrip) {
        return refuse(
          st.generatorTrip
            ? `no latched ${args.code}; the latched fault is ${st.generatorTrip}`
            : `no latched fault ${args.code}`,
        );
      }
      const r = model.resetGenerator();
      return r.ok ? done({ cleared: r.cleared }) : refuse(r.reason);
    }
    case 'backfill': {
      const parsed = backfillArgsSchema.safeParse(args);
      if (!parsed.success)
        return refuse(
          `invalid backfill: ${parsed.error.issues.map((i) => `args.${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      return done({ ...ctx.backfill(parsed.data) });
    }
    default:
      return refuse(`unknown command "${cmd.name}"; this gateway knows ${COMMAND_NAMES.join(', ')}`);
  }
}
