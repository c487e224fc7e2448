import type { PowerSource } from '../../protocol/index.ts';

/** What the operator (or a remote command) forces; `auto` lets the switch decide. */
export type SourceMode = 'auto' | 'mains' | 'generator' | 'battery';
export const SOURCE_MODES: readonly SourceMode[] = ['auto', 'mains', 'generator', 'battery'];

export interface SwitchInputs {
  mainsPresent: boolean;
  hasGenerator: boolean;
  /** The set may be started (no latched trip, fuel left). */
  generatorAvailable: boolean;
  /** Warmed up and able to take the load. */
  generatorReady: boolean;
  /** The inverter may draw from the battery (not in low-voltage cut-off). */
  batteryAvailable: boolean;
}

/**
 * The automatic transfer switch and generator auto-start logic (市电/发电机/电池 切换): mains is
 * preferred; when mains has been gone for `generatorStartDelayS` the generator is started and takes
 * the load once warm; the battery bridges through the inverter meanwhile; when mains has been back for
 * `mainsReturnDelayS` the load goes back to mains and the auto-started generator is released
 * (it then runs its cool-down and stops).
 */
export function createTransferSwitch(options: { generatorStartDelayS: number; mainsReturnDelayS: number }) {
  const s = {
    source: 'mains' as PowerSource,
    mode: 'auto' as SourceMode,
    mainsAbsentS: 0,
    mainsPresentS: Infinity,
    autoStart: false,
    overrideCancelled: null as SourceMode | null,
  };

  function valid(mode: SourceMode, i: SwitchInputs): boolean {
    if (mode === 'mains') return i.mainsPresent;
    if (mode === 'generator') return i.hasGenerator && i.generatorReady;
    if (mode === 'battery') return i.batteryAvailable;
    return true;
  }

  return {
    state: s,
    setMode(mode: SourceMode) {
      s.mode = mode;
    },
    /** Tracks mains and decides whether the auto-start wants the generator. */
    control(dtS: number, i: SwitchInputs): { wantGenerator: boolean } {
      if (i.mainsPresent) {
        s.mainsPresentS += dtS;
        s.mainsAbsentS = 0;
      } else {
        s.mainsAbsentS += dtS;
        s.mainsPresentS = 0;
      }
      if (i.hasGenerator && !i.mainsPresent && s.mainsAbsentS >= options.generatorStartDelayS && i.generatorAvailable)
        s.autoStart = true;
      if (i.mainsPresent && s.mainsPresentS >= options.mainsReturnDelayS) s.autoStart = false;
      if (!i.hasGenerator || !i.generatorAvailable) s.autoStart = false;
      return { wantGenerator: s.autoStart };
    },
    /** Picks the source for this step. A forced mode that became impossible falls back to auto. */
    select(i: SwitchInputs): PowerSource {
      s.overrideCancelled = null;
      if (s.mode !== 'auto' && !valid(s.mode, i)) {
        s.overrideCancelled = s.mode;
        s.mode = 'auto';
      }
      let next: PowerSource;
      if (s.mode !== 'auto') next = s.mode;
      else if (
        i.mainsPresent &&
        (s.source !== 'generator' || s.mainsPresentS >= options.mainsReturnDelayS || !i.generatorReady)
      )
        next = 'mains';
      else if (i.hasGenerator && i.generatorReady) next = 'generator';
      else if (i.batteryAvailable) next = 'battery';
      else next = 'none';
      s.source = next;
      return next;
    },
  };
}

export type TransferSwitch = ReturnType<typeof createTransferSwitch>;
