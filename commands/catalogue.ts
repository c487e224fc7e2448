import { z } from 'zod';
import { PlatformError } from '../core/errors.ts';
import './errors.ts';

/**
 * The operator command catalogue: the only commands the console (and remote sessions) may send to a
 * vehicle, each with the zod schema of its arguments and whether it changes the vehicle's power state.
 * A power-changing command needs the console's second confirmation and a sender the policy allows
 * (commands/policy.ts). `backfill` is the platform's own (ingest/backfill-requests.ts), never an
 * operator's. The reference gateway (simulators/gateway/commands.ts) executes these and refuses, with
 * a reason, one that would be unsafe in the vehicle's state.
 */

/** A command id: what the wire allows (1–64 characters), from a safe alphabet. */
export const COMMAND_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The transfer switch's modes: forced to one source, or back to automatic. */
export const SWITCH_SOURCES = ['auto', 'mains', 'generator', 'battery'] as const;

/** A latched controller trip code, as the gateway reports it. */
const tripCode = z
  .string({ error: 'must be text' })
  .regex(/^[A-Za-z0-9_.-]{1,32}$/, { error: 'must be 1–32 characters of A-Z a-z 0-9 _ . -' });

export const COMMAND_CATALOGUE = {
  setTelemetryRate: {
    changesPower: false,
    // hz 'default': back to the gateway's own base rate now (a remote session ended)
    args: z
      .strictObject({
        hz: z.unknown().superRefine((hz, ctx) => {
          if (hz === 'default') return;
          if (typeof hz !== 'number' || !Number.isFinite(hz))
            ctx.addIssue({ code: 'custom', message: "must be a number, or 'default'" });
          else if (hz < 0.01) ctx.addIssue({ code: 'custom', message: 'must be at least 0.01' });
          else if (hz > 10) ctx.addIssue({ code: 'custom', message: 'must be at most 10' });
        }),
        durationS: z
          .number({ error: 'must be seconds' })
          .int({ error: 'must be whole seconds' })
          .min(1, { error: 'must be at least 1' })
          .max(86_400, { error: 'must be at most 86400' })
          .optional(),
      })
      .refine((a) => a.hz !== 'default' || a.durationS === undefined, {
        error: "durationS does not go with hz 'default'",
        path: ['durationS'],
      }),
  },
  snapshot: { changesPower: false, args: z.strictObject({}) },
  startGenerator: { changesPower: true, args: z.strictObject({}) },
  stopGenerator: { changesPower: true, args: z.strictObject({}) },
  switchSource: {
    changesPower: true,
    args: z.strictObject({
      source: z.enum(SWITCH_SOURCES, { error: `must be one of ${SWITCH_SOURCES.join(', ')}` }),
    }),
  },
  resetFault: {
    changesPower: true,
    // `code`: the latched trip to clear (none: whatever is latched); `fault`: a simulated fault to end (simulators only)
    args: z
      .strictObject({ code: tripCode.optional(), fault: tripCode.optional() })
      .refine((a) => a.code === undefined || a.fault === undefined, { error: 'give code or fault, not both' }),
  },
} as const satisfies Record<string, { changesPower: boolean; args: z.ZodType<Record<string, unknown>> }>;

export type OperatorCommandName = keyof typeof COMMAND_CATALOGUE;
export const OPERATOR_COMMANDS = Object.keys(COMMAND_CATALOGUE) as [OperatorCommandName, ...OperatorCommandName[]];
/** The commands that change the power state: second confirmation, restricted senders. */
export const POWER_COMMANDS = OPERATOR_COMMANDS.filter((n) => COMMAND_CATALOGUE[n].changesPower);

export interface CheckedCommand {
  name: OperatorCommandName;
  /** The arguments as the schema parsed them (unknown keys refused). */
  args: Record<string, unknown>;
  changesPower: boolean;
}

export function isOperatorCommand(name: string): name is OperatorCommandName {
  return Object.hasOwn(COMMAND_CATALOGUE, name);
}

/** The command as the catalogue allows it, or COMMAND_UNKNOWN / INVALID_ARGUMENT naming each bad argument. */
export function checkCommand(name: string, args: unknown): CheckedCommand {
  if (!isOperatorCommand(name))
    throw new PlatformError('COMMAND_UNKNOWN', `unknown command "${name}"; one of ${OPERATOR_COMMANDS.join(', ')}`);
  const spec = COMMAND_CATALOGUE[name];
  const parsed = spec.args.safeParse(args ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: ['args', ...i.path.map(String)].join('.'),
      message: i.code === 'unrecognized_keys' ? `unknown field ${i.keys.join(', ')}` : i.message,
    }));
    throw new PlatformError('INVALID_ARGUMENT', `${name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      details: issues,
    });
  }
  return { name, args: parsed.data as Record<string, unknown>, changesPower: spec.changesPower };
}
