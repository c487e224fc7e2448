import type { PowerProfile, TelemetryFrame } from '../../protocol/index.ts';
import type { Rule } from '../rules/schema.ts';
import type { RuleSet } from '../rules/load.ts';
import { compile, hasAbsence, newConditionMemory, type CompiledCondition, type ConditionMemory } from './conditions.ts';
import { derive, newMemory, type Derived, type VehicleMemory } from '../derived-signals.ts';

export interface VehicleInfo {
  model: string;
  profile: PowerProfile;
}

/** A rule's alarm starting or ending on a vehicle, at event time. */
export interface RuleTransition {
  type: 'raised' | 'cleared';
  vehicleId: string;
  rule: Rule;
  /** Event time: the ts of the frame that completed the condition (or the tick time for absence). */
  at: number;
  /**
   * False when the transition comes from frames replayed long after the fact (older than the
   * staleness window): it belongs in history, not in anyone's queue. A historical alarm still
   * active when live frames arrive is raised again with live = true.
   */
  live: boolean;
  frame: TelemetryFrame | null;
  derived: Derived | null;
}

type Phase = 'idle' | 'pending' | 'active' | 'clearing';
interface RuleState {
  phase: Phase;
  since: number;
  live: boolean;
}

interface CompiledRule {
  rule: Rule;
  when: CompiledCondition;
  clear: CompiledCondition | null;
  absence: boolean;
}

const compiled = new WeakMap<Rule, CompiledRule>();
function compiledRule(rule: Rule): CompiledRule {
  let c = compiled.get(rule);
  if (!c) {
    c = {
      rule,
      when: compile(rule.when, `${rule.id}:w`),
      clear: rule.clear ? compile(rule.clear, `${rule.id}:c`) : null,
      absence: hasAbsence(rule.when),
    };
    compiled.set(rule, c);
  }
  return c;
}

interface VehicleState {
  info: VehicleInfo;
  rules: CompiledRule[];
  states: Map<string, RuleState>;
  memory: VehicleMemory;
  conditions: ConditionMemory;
  /** Highest frame ts evaluated; older frames are stored but not evaluated again. */
  maxTs: number;
}

export interface RuleEngineOptions {
  /** Transitions from frames older than this (vs the wall clock) are historical. */
  staleAfterMs: number;
}

/**
 * Evaluates rules per vehicle on event time. Frames must come in the order they were received;
 * a frame older than one already evaluated (out of order) is skipped, so a replay never rewinds.
 * `onFrames` and `tick` return the transitions they found (each call its own list); `emit`, when
 * given, is also called with each one as it is found.
 */
export function createRuleEngine(
  deps: { rules: RuleSet; emit?: (t: RuleTransition) => void; now?: () => number },
  options: RuleEngineOptions,
) {
  const now = deps.now ?? Date.now;
  const vehicles = new Map<string, VehicleState>();

  function stateOf(vehicleId: string, info: VehicleInfo): VehicleState {
    let v = vehicles.get(vehicleId);
    if (!v || v.info.model !== info.model || v.info.profile !== info.profile) {
      const rules = deps.rules
        .forModel(info.model)
        .filter((r) => r.requires.generator === undefined || r.requires.generator === info.profile.hasGenerator)
        .map(compiledRule);
      v = {
        info,
        rules,
        states: v?.states ?? new Map(),
        memory: v?.memory ?? newMemory(),
        conditions: v?.conditions ?? newConditionMemory(),
        maxTs: v?.maxTs ?? -Infinity,
      };
      vehicles.set(vehicleId, v);
    }
    return v;
  }

  function found(out: RuleTransition[], t: RuleTransition) {
    out.push(t);
    deps.emit?.(t);
  }

  function step(
    out: RuleTransition[],
    vehicleId: string,
    v: VehicleState,
    rule: Rule,
    whenTrue: boolean,
    clearTrue: boolean,
    at: number,
    live: boolean,
    frame: TelemetryFrame | null,
    derived: Derived | null,
  ) {
    let s = v.states.get(rule.id);
    if (!s) v.states.set(rule.id, (s = { phase: 'idle', since: at, live }));
    if (s.phase === 'idle') {
      if (!whenTrue) return;
      s.phase = 'pending';
      s.since = at; // a zero hold raises at once, below
    }
    if (s.phase === 'pending') {
      if (!whenTrue) {
        s.phase = 'idle';
      } else if (at - s.since >= rule.for) {
        s.phase = 'active';
        s.live = live;
        found(out, { type: 'raised', vehicleId, rule, at, live, frame, derived });
      }
      return;
    }
    if (s.phase === 'active') {
      if (!s.live && live) {
        s.live = true;
        found(out, { type: 'raised', vehicleId, rule, at, live, frame, derived }); // promote a historical alarm that is still true now
      }
      if (!clearTrue) return;
      s.phase = 'clearing';
      s.since = at;
    }
    // clearing
    if (!clearTrue) {
      s.phase = 'active';
    } else if (at - s.since >= rule.clearFor) {
      s.phase = 'idle';
      found(out, { type: 'cleared', vehicleId, rule, at, live, frame, derived });
    }
  }

  return {
    /** Evaluates frames of one vehicle, in the order received. */
    onFrames(
      vehicleId: string,
      info: VehicleInfo,
      frames: readonly TelemetryFrame[],
      receivedAt: number,
    ): RuleTransition[] {
      const out: RuleTransition[] = [];
      const v = stateOf(vehicleId, info);
      v.conditions.lastReceivedAt = receivedAt;
      const wall = now();
      for (const frame of frames) {
        if (frame.ts <= v.maxTs) continue;
        v.maxTs = frame.ts;
        const derived = derive(frame, info.profile, v.memory);
        const ctx = { frame, profile: info.profile, derived };
        const live = wall - frame.ts <= options.staleAfterMs;
        const input = { ctx, profile: info.profile, memory: v.conditions, now: wall };
        v.conditions.frameNo++;
        for (const c of v.rules) {
          const whenTrue = c.when(input, true);
          const clearTrue = c.clear ? c.clear(input, true) : !whenTrue;
          step(out, vehicleId, v, c.rule, whenTrue, clearTrue, frame.ts, live, frame, derived);
        }
      }
      return out;
    },
    /** Evaluates absence conditions against the wall clock; call periodically. */
    tick(at = now()): RuleTransition[] {
      const out: RuleTransition[] = [];
      for (const [vehicleId, v] of vehicles) {
        for (const c of v.rules) {
          if (!c.absence) continue;
          const rule = c.rule;
          const input = { ctx: null, profile: v.info.profile, memory: v.conditions, now: at };
          const whenTrue = c.when(input, false);
          const clearTrue = c.clear ? c.clear(input, false) : !whenTrue;
          // an absence alarm clears only when a frame arrives, not on a tick
          const s = v.states.get(rule.id);
          if (s && (s.phase === 'active' || s.phase === 'clearing') && !whenTrue) continue;
          step(out, vehicleId, v, rule, whenTrue, clearTrue, at, true, null, null);
        }
      }
      return out;
    },
    /** Restores a vehicle's active alarms after a restart so they are not raised twice. */
    restoreActive(vehicleId: string, info: VehicleInfo, ruleId: string, since: number) {
      const v = stateOf(vehicleId, info);
      v.states.set(ruleId, { phase: 'active', since, live: true });
    },
    forget(vehicleId: string) {
      vehicles.delete(vehicleId);
    },
    /** Whether the engine holds any state of the vehicle (frames seen, alarms restored). */
    hasVehicle(vehicleId: string): boolean {
      return vehicles.has(vehicleId);
    },
    activeRules(vehicleId: string): string[] {
      const v = vehicles.get(vehicleId);
      return v ? [...v.states].filter(([, s]) => s.phase === 'active' || s.phase === 'clearing').map(([id]) => id) : [];
    },
  };
}

export type RuleEngine = ReturnType<typeof createRuleEngine>;
